"""The house: the package's modules import each other without circles (counting the
imports inside functions), constants come from constriction.units, and the geometry
sources are told apart in one place."""

import ast
from pathlib import Path

import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

PACKAGE = Path(__file__).resolve().parents[2] / "constriction"


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(), str(path))
    return out


def _imports(tree: ast.Module, modules) -> set[str]:
    """The package modules a module imports, anywhere in its body (but for annotations
    under `if TYPE_CHECKING:`)."""
    found = set()
    for node in _walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("constriction"):
            assert node.level == 0, "relative import"
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
    return found


def _walk(node):
    """ast.walk without the bodies of `if TYPE_CHECKING:`."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not (isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING"):
            yield from _walk(child)


def test_no_import_circles():
    modules = _modules()
    names = sorted(modules)
    index = {n: i for i, n in enumerate(names)}
    edges = [(index[a], index[b]) for a in names for b in _imports(modules[a], modules)
             if b != a and b != "constriction" and b in index]
    graph = csr_matrix(([1] * len(edges), ([e[0] for e in edges], [e[1] for e in edges])),
                       shape=(len(names), len(names)))
    _, label = connected_components(graph, directed=True, connection="strong")
    circles = [sorted(n for n in names if label[index[n]] == k) for k in set(label)]
    assert [c for c in circles if len(c) > 1] == []


@pytest.mark.parametrize("constant", ["EPS0", "UM", "M2_PER_CM2", "CM2_PER_M2", "BOLTZMANN_eV_per_K"])
def test_constants_come_from_units(constant):
    wrong = [(name, node.module) for name, tree in _modules().items() for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module != "constriction.units"
             and any(a.name == constant for a in node.names)]
    assert wrong == []


def test_sources_told_apart_in_one_place():
    """isinstance on ImageSpec / MeshFileSpec (the geometry source) only in sources.py."""
    places = sorted({name for name, tree in _modules().items() for node in ast.walk(tree)
                    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance"
                    and any(isinstance(a, ast.Name) and a.id in ("ImageSpec", "MeshFileSpec", "Spec")
                            for a in ast.walk(node.args[1]))})
    assert places == ["constriction.sources"]


def test_every_toml_reader_lives_in_io():
    """Reading TOML tables (tomllib, or the shared field checks of io/toml_fields.py) only
    in io/: the geometry sources never reach back up into it."""
    modules = _modules()
    readers = sorted(name for name, tree in modules.items()
                     if {"constriction.io.toml_fields", "tomllib"} & (_imports(tree, modules) | {
                         a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names})
                     and not name.startswith("constriction.io"))
    assert readers == []


def test_every_spec_is_one_protocol():
    """Spec, ImageSpec and MeshFileSpec are CellSpecs: load_spec returns one, run takes one."""
    import dataclasses
    import inspect
    import typing
    from constriction.image.read import ImageSpec
    from constriction.io.spec_reader import load_spec
    from constriction.meshfile.read import MeshFileSpec
    from constriction.pipeline import run
    from constriction.spec import CellSpec, Spec
    members = ("name", "sweep", "temperature_K", "electrolyte", "at", "frequencies_Hz", "to_dict")
    for cls in (Spec, ImageSpec, MeshFileSpec):
        fields = {f.name for f in dataclasses.fields(cls)} | set(dir(cls))
        assert all(m in fields for m in members), cls
    assert typing.get_type_hints(load_spec)["return"] is CellSpec
    assert typing.get_type_hints(run)["spec"] is CellSpec
    assert "options" in inspect.signature(run).parameters
