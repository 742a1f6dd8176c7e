"""Small cases that tests in both folders share: specs as TOML text, a labelled image,
the check that the command line refused in one line and changed nothing, and the
matrices the solver tests share (a Laplacian, a voxel interface with gas)."""

import hashlib
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from constriction.cli import main

SMALL_SPEC = """
[cell]
shape = "box"
side_um = 50.0
thickness_um = 50.0
[[contacts]]
x_um = 0.0
y_um = 0.0
radius_um = 5.0
[gap]
height_um = 0.5
[materials.electrolyte]
sigma_S_per_m = 0.1
eps_r = 10.0
[sweep]
f_min_Hz = 1.0
f_max_Hz = 1e9
points_per_decade = 4
[mesh]
size_um = 10.0
order = 1
"""

TINY_SPEC = SMALL_SPEC.replace("points_per_decade = 4", "points_per_decade = 2").replace(
    "side_um = 50.0", "side_um = 20.0").replace("thickness_um = 50.0", "thickness_um = 20.0").replace(
    "radius_um = 5.0", "radius_um = 3.0")

STUDY = """
[study]
name = "tiny"
outputs = ["R_dc_ohm", "R_cstr_ohm"]
[base]
spec = "tiny.toml"
[[axes]]
name = "radius"
key = "contacts[0].radius_um"
values = [2.0, 3.0]
"""


def snapshot(root: Path) -> dict:
    """Every path under root with a hash of its content (folders: None)."""
    out = {}
    for path in sorted(root.rglob("*")):
        out[str(path.relative_to(root))] = None if path.is_dir() else hashlib.sha1(path.read_bytes()).hexdigest()
    return out


def refused(argv, root, *words, capsys):
    """Run the CLI; it must refuse in one line naming `words`, and change nothing."""
    before = snapshot(root)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    message = err[-1]
    assert message.startswith("error: ") and "Traceback" not in "\n".join(err), err
    for word in words:
        assert word in message, message
    assert snapshot(root) == before
    return message


def image_toml(path, image_table: str, phases: str = "") -> None:
    path.write_text(image_table + (phases or """
[phases.electrolyte]
kind = "electrolyte"
sigma_S_per_m = 0.1
eps_r = 10.0
[phases.gas]
kind = "gas"
[phases.metal]
kind = "metal"
""") + "[sweep]\nf_min_Hz = 1.0\nf_max_Hz = 1e9\npoints_per_decade = 2\n")


LABELS = '[image.labels]\n0 = "electrolyte"\n1 = "gas"\n2 = "metal"\n'


def voxel_cell(n=6, metal_top=True):
    a = np.zeros((n, n, n), np.uint8)
    if metal_top:
        a[-1] = 2
    return a


def laplacian_3d(n, shift=1e-3):
    """SPD 7-point Laplacian on an n^3 grid, plus a small mass-like shift."""
    d = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    I = sp.identity(n)
    L = sp.kron(sp.kron(d, I), I) + sp.kron(sp.kron(I, d), I) + sp.kron(sp.kron(I, I), d)
    return (L + shift * sp.identity(n**3)).tocsr()


def gas_interface(n: int = 24, **shape):
    """The System of a voxel interface with gas voids (n³, 2 µm; the voids, contact patches,
    gap and metal scale with n, or as `shape` says: synthetic_interface's keywords):
    electrolyte of 0.1 S/m and eps_r 10 beside gas."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "studies"))
    from synthetic_interface import synthetic_interface
    from constriction.units import EPS0
    from constriction.image.voxels import ELECTROLYTE, GAS, METAL, assemble_grid
    k = n // 24
    shape = {"void_radius": 1.5 * k, "void_depth": 6 * k, "patch_size": 2.0 * k, "gap": k, "metal": 2 * k,
             "seed": 3} | shape
    image = synthetic_interface((n, n, n), **shape)
    kind = np.array([ELECTROLYTE, GAS, METAL], np.int8)[np.transpose(image, (2, 1, 0))]
    sigma = np.where(kind == ELECTROLYTE, 0.1, 0.0)
    eps = np.where(kind == METAL, 0.0, EPS0 * np.where(kind == GAS, 1.0, 10.0))
    return assemble_grid(kind, sigma, eps, (2e-6,) * 3)[1]


def gas_shift_system():
    """The shifted system G + sC of gas_interface (s = 2 pi rad/s): the gas unknowns carry
    s eps0 beside 0.1 S/m; and a right-hand side like a reduced model's derivative
    snapshot, -(C x + c)."""
    from constriction.solve.linalg import factorize
    from constriction.solve.reduced import restricted
    system = gas_interface()
    I = system.interior
    G, C = restricted(system.G, I), restricted(system.C, I)
    u = np.zeros(system.n_dofs)
    u[system.we] = 1.0
    A = (G + 2 * np.pi * C).tocsr()
    x = factorize(A, "superlu")(-(system.G[I] @ u + 2 * np.pi * system.C[I] @ u))
    return A, -(C @ x + system.C[I] @ u), G.diagonal() == 0


def porous_blobs(n: int, fraction: float, seed: int) -> np.ndarray:
    """A seeded blob image (n³ bool, True = conducting, indexed x, y, z) of about `fraction`
    conducting voxels: smoothed noise cut at its quantile, as porespy's blobs (which the
    benchmarks use) makes them, without porespy."""
    from scipy import ndimage
    noise = np.random.default_rng(seed).standard_normal((n, n, n))
    field = ndimage.gaussian_filter(noise, sigma=n / 40 * 1.5, mode="wrap")
    return field < np.quantile(field, fraction)


def porous_cell(n: int, fraction: float, seed: int, metal_layers: int = 1):
    """The System of a porous image: blobs of electrolyte (1 S/m, eps_r 10) in an insulating
    matrix (eps_r 1) under a metal cap (None where the blobs do not join the electrodes),
    and the kind of every voxel."""
    from constriction.units import EPS0
    from constriction.image.voxels import ELECTROLYTE, INSULATOR, METAL, GridError, assemble_grid
    kind = np.where(porous_blobs(n, fraction, seed), ELECTROLYTE, INSULATOR).astype(np.int8)
    kind = np.concatenate([kind, np.full((n, n, metal_layers), METAL, np.int8)], axis=2)
    sigma = np.where(kind == ELECTROLYTE, 1.0, 0.0)
    eps = np.where(kind == METAL, 0.0, EPS0 * np.where(kind == ELECTROLYTE, 10.0, 1.0))
    try:
        return assemble_grid(kind, sigma, eps, (1e-6,) * 3)[1], kind
    except GridError:
        return None, kind


MPI_LABELS = {"0": "electrolyte", "1": "pore", "2": "metal", "3": "matrix", "4": "gb"}
MPI_PHASES = {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": 1.0, "eps_r": 10.0},
              "gb": {"kind": "electrolyte", "sigma_S_per_m": 0.1, "eps_r": 20.0},
              "matrix": {"kind": "insulator", "eps_r": 3.0}, "pore": {"kind": "gas"}, "metal": {"kind": "metal"}}


def mpi_image(n: int, case: str) -> np.ndarray:
    """A labelled image (z, y, x; labels as MPI_LABELS) with everything a band of rows must
    agree on with its neighbours: a floating metal body, gas against the WE and a void, two
    electrolytes. case "porous": seeded blobs of electrolyte in an insulating matrix;
    "interface": studies/synthetic_interface.py's voids and contact layer."""
    import sys
    if case == "porous":
        xyz = np.where(porous_blobs(n, 0.35, 1), 0, 3).astype(np.uint8)
        xyz[:, :, -1] = 2                                   # the WE's metal
        xyz[: n // 3, :, -2] = 1                            # a gap under a third of it
        xyz[n // 4:n // 4 + 3, 2 * n // 3:2 * n // 3 + 3, n // 3:n // 3 + 3] = 1  # a void
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "studies"))
        from synthetic_interface import synthetic_interface
        xyz = np.transpose(synthetic_interface((n, n, n), void_radius=n / 16, void_depth=n // 4, gap=2, metal=2,
                                               seed=4), (2, 1, 0)).copy()   # labels 0 electrolyte, 1 gas, 2 metal
    c = n // 2
    xyz[c - 3:c + 3, c - 3:c + 3, n // 2 - 3:n // 2 + 3] = 2  # a floating metal cube across the middle rows
    low = xyz[:, : n // 5, : n // 4]
    low[low == 0] = 4                                          # a second electrolyte near the CE
    return np.ascontiguousarray(np.transpose(xyz, (2, 1, 0)))
