"""Synthetic labelled images of a metal | solid-electrolyte interface, seeded, and a
porosity study over them.

An image (z, y, x; z = 0 is the counter electrode) holds, from the bottom:

    electrolyte (label 0), with gas voids (label 1) of a given radius placed at random in
        its top `void_depth` voxels until they fill `porosity` of that layer;
    a contact layer `gap` voxels thick: metal (label 2) where the metal touches, gas
        elsewhere, the contact patches from a smoothed random field cut at
        `contact_fraction`;
    a metal layer `metal` voxels thick (the working electrode).

    python studies/synthetic_interface.py --write specs/voids_48.tif      # the shipped example
    python studies/synthetic_interface.py --study [--out results/porosity]  # R_cstr, C_cstr vs porosity
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

ELECTROLYTE, GAS, METAL = 0, 1, 2


def synthetic_interface(shape=(48, 48, 48), porosity=0.15, void_radius=3.0, void_depth=12, contact_fraction=0.4,
                        patch_size=4.0, gap=2, metal=3, seed=0) -> np.ndarray:
    """A labelled interface image (uint8, indexed z, y, x), reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    nz, ny, nx = shape
    image = np.full(shape, ELECTROLYTE, np.uint8)
    top = nz - gap - metal                       # first voxel above the electrolyte
    layer = slice(top - void_depth, top)
    z, y, x = np.mgrid[layer, :ny, :nx] + 0.5
    voids = np.zeros(z.shape, bool)
    while voids.mean() < porosity:
        cz = rng.uniform(top - void_depth, top)
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        voids |= (z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2 < void_radius**2
    image[layer][voids] = GAS
    field = ndimage.gaussian_filter(rng.standard_normal((ny, nx)), patch_size, mode="wrap")
    contact = field >= np.quantile(field, 1 - contact_fraction)
    image[top:top + gap] = np.where(contact, METAL, GAS)
    image[top + gap:] = METAL
    return image


SPEC = """# A synthetic sodium | beta''-alumina interface (seed 004: voids under the electrode
# seen by X-ray tomography, voxels of a few µm), made by studies/synthetic_interface.py:
# 48^3 voxels of 2 µm, voids of 15 % porosity in the top 24 µm of the electrolyte, the
# metal touching 40 % of the surface through a 4 µm contact layer.
#
#   constriction run specs/voids_image.toml

[image]
path = "{path}"
voxel_um = 2.0
working_electrode = "+z"        # the metal is on top; the counter electrode is the bottom face

[image.labels]
0 = "electrolyte"
1 = "void"
2 = "sodium"

[phases.electrolyte]            # beta''-alumina: 2 mS/cm (seed 004); eps_r an assumed value
kind = "electrolyte"
sigma_S_per_m = 0.2
eps_r = 50.0

[phases.void]
kind = "gas"
eps_r = 1.0

[phases.sodium]
kind = "metal"

[sweep]
f_min_Hz = 1.0
f_max_Hz = 1e10
points_per_decade = 6
"""


def write(image: np.ndarray, path: Path) -> None:
    """Save as a compressed multi-page TIFF (pages = z) or .npy."""
    if path.suffix == ".npy":
        np.save(path, image)
    else:
        import tifffile
        tifffile.imwrite(path, image, compression="zlib")


def porosity_study(out: Path, porosities=(0.0, 0.1, 0.2, 0.3), seeds=(0, 1, 2)) -> list[dict]:
    """R_cstr and C_cstr of the synthetic interface against porosity, three seeds each."""
    from constriction import run, spec_from_dict
    from constriction.io.folders import check_folder, write_folder
    written = ("porosity.csv",) + tuple(f"p{p:g}_s{s}.npy" for p in porosities for s in seeds)
    out = check_folder(out, "porosity_study", lambda name: name in written)
    rows, images = [], {}
    for p in porosities:
        for s in seeds:
            images[f"p{p:g}_s{s}.npy"] = synthetic_interface((32, 32, 32), porosity=p, void_depth=8, seed=s)

    def fill(tmp: Path):
        for name, image in images.items():
            np.save(tmp / name, image)
            p, s = name[1:-4].split("_s")
            spec = spec_from_dict({"image": {"path": str(tmp / name), "voxel_um": 2.0,
                                             "labels": {"0": "electrolyte", "1": "void", "2": "sodium"}},
                                   "phases": {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": 0.2,
                                                              "eps_r": 50.0},
                                              "void": {"kind": "gas"}, "sodium": {"kind": "metal"}},
                                   "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e10, "points_per_decade": 4}}, name=name)
            c = run(spec, progress=False, cpe_fit=False).summary.constriction
            rows.append({"porosity": float(p), "seed": int(s), "R_cstr_ohm": c.R_cstr_ohm,
                         "C_cstr_F": c.arc.C_cstr_F if c.arc else float("nan")})
            print(f"porosity {p:>4}, seed {s}: R_cstr {rows[-1]['R_cstr_ohm']:.4g} ohm, "
                  f"C_cstr {rows[-1]['C_cstr_F']:.4g} F", flush=True)
        lines = ["porosity,seed,R_cstr_ohm,C_cstr_F"] + [f"{r['porosity']},{r['seed']},{r['R_cstr_ohm']:.8e},"
                                                          f"{r['C_cstr_F']:.8e}" for r in rows]
        (tmp / "porosity.csv").write_text("\n".join(lines) + "\n")

    write_folder(out, "porosity_study", lambda name: name in written, fill)
    print(f"table: {out / 'porosity.csv'}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the example image here (.tif or .npy) and a spec beside it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--study", action="store_true", help="R_cstr and C_cstr against porosity")
    parser.add_argument("--out", type=Path, default=Path("results/porosity"))
    args = parser.parse_args()
    if args.write:
        from constriction.io.folders import check_file
        spec_path = args.write.with_name("voids_image.toml")
        for path in (args.write, spec_path):
            check_file(path)
        write(synthetic_interface(seed=args.seed), args.write)
        spec_path.write_text(SPEC.format(path=args.write.name))
        print(f"image: {args.write}\nspec:  {spec_path}")
    if args.study:
        porosity_study(args.out)


if __name__ == "__main__":
    main()
