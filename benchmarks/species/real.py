"""The species models on the two real TMD images (issue 10's checks), as a user runs them.

    python benchmarks/species/real.py > benchmarks/species/real.md

- mose2_stem_grain_boundary.tif (no pixel size in the file: ``auto:MoSe2``, a = 3.29 Å; ``--elements Mo,Se``):
  columns called Mo and Se2; away from the boundaries (farther than 5 Å from the centroid of
  every complete ring that is not a hexagon, and 5 Å from the image edge), the fraction of the
  Mo columns' three nearest columns that are Se2, and of the Se2 columns' that are Mo.
- mos2_se_implanted_stem.dm3 (0.127 Å/px in the file; ``--elements Mo,S,Se``, as its user knows them): every column's species; the columns
  holding Se (SSe, Se2, Se) and whether they sit on chalcogen sites (their three nearest
  columns metal), counted with positions; overlay figure benchmarks/real/mos2_se_species.png.

Outputs of ``atomscope analyse`` go to benchmarks/real/out/ (not committed).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from atomscope.cli import main as atomscope
from atomscope.io import read_table
from atomscope.report import neighbour_species

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"
OUT = HERE.parent / "real" / "out"
AWAY = 5.0  # Å from every non-hexagonal ring and from the image edge
METALS = {"Mo", "W", "Fe"}
SELENIUM = {"SSe", "Se2", "Se"}


def analyse(image: Path, model: str, pixel_size: str | None, out: Path, elements: str | None = None) -> dict[str, pd.DataFrame]:
    """``atomscope analyse`` of one image (``elements``: its ``--elements``); its sites (frame 0), rings, species and species_sites tables."""
    shutil.rmtree(out, ignore_errors=True)
    args = ["analyse", str(image), "--model", model, "--out", str(out)] + (["--pixel-size", pixel_size] if pixel_size else [])
    args += ["--elements", elements] if elements else []
    if atomscope(args) != 0:
        raise RuntimeError(f"atomscope {' '.join(args)} failed")
    tables = {name: read_table(out / f"{name}.parquet") for name in ("sites", "rings", "species", "species_sites")}
    tables["sites"] = tables["sites"][tables["sites"]["frame"] == 0].reset_index(drop=True)
    return tables


def away_from_boundaries(sites: pd.DataFrame, rings: pd.DataFrame) -> np.ndarray:
    """Which columns (atoms and vacancies with a species) lie farther than :data:`AWAY` from every
    complete non-hexagonal ring's centroid and from the edge of the detections."""
    xy = sites[["x", "y"]].to_numpy(float)
    atoms = sites[sites["kind"] != "vacancy"].reset_index(drop=True)  # ring members index the triangulated rows
    odd = rings[rings["complete"].astype(bool) & (rings["size"] != 6)]
    centroids = np.array([atoms[["x", "y"]].to_numpy(float)[np.asarray(m, int)].mean(axis=0) for m in odd["members"]]).reshape(-1, 2)
    far = np.ones(len(xy), bool) if not len(centroids) else np.linalg.norm(xy[:, None] - centroids[None], axis=-1).min(axis=1) > AWAY
    low, high = xy.min(axis=0) + AWAY, xy.max(axis=0) - AWAY
    return far & (xy >= low).all(axis=1) & (xy <= high).all(axis=1)


def alternation(tables: dict[str, pd.DataFrame], metal: str, chalcogen: str) -> dict[str, float]:
    """Away from the boundaries: the fraction of the metal columns' three nearest that are
    ``chalcogen`` and of the chalcogen columns' that are ``metal``, with the counts."""
    sites = tables["sites"]
    columns = sites[sites["kind"].isin(["atom", "vacancy"]) & sites["species"].astype(str).ne("")].reset_index(drop=True)
    neighbours = neighbour_species(columns)
    away = away_from_boundaries(columns, tables["rings"])
    own = columns["species"].to_numpy()
    m, c = away & (own == metal), away & (own == chalcogen)
    return {
        "metal": int(m.sum()), "chalcogen": int(c.sum()), "columns": len(columns), "away": int(away.sum()),
        "metal_by_chalcogen": float((neighbours[m] == chalcogen).mean()), "chalcogen_by_metal": float((neighbours[c] == metal).mean()),
    }


def selenium_sites(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Columns holding Se, and how many of them sit on chalcogen sites (at least two of their
    three nearest columns metal)."""
    sites = tables["sites"]
    columns = sites[sites["kind"].isin(["atom", "vacancy"]) & sites["species"].astype(str).ne("")].reset_index(drop=True)
    neighbours = neighbour_species(columns)
    selenium = columns["species"].isin(SELENIUM).to_numpy()
    on_chalcogen = np.isin(neighbours, list(METALS)).sum(axis=1) >= 2
    return {"columns": len(columns), "selenium": int(selenium.sum()), "on_chalcogen_sites": int((selenium & on_chalcogen).sum())}


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"{DATA}: real data not found")
    mose2 = analyse(DATA / "mose2_stem_grain_boundary.tif", "tmd_stem", "auto:MoSe2", OUT / "mose2_species", "Mo,Se")
    a = alternation(mose2, "Mo", "Se2")
    mos2 = analyse(DATA / "mos2_se_implanted_stem.dm3", "tmd_stem", None, OUT / "mos2_se_species", "Mo,S,Se")
    b = selenium_sites(mos2)
    shutil.copy(OUT / "mos2_se_species" / "species.png", HERE.parent / "real" / "mos2_se_species.png")
    shutil.copy(OUT / "mose2_species" / "species.png", HERE.parent / "real" / "mose2_species.png")
    print("# Species models on real TMD images\n\nCommand: `python benchmarks/species/real.py > benchmarks/species/real.md`\n")
    print("## mose2_stem_grain_boundary.tif (tmd_stem, pixel size auto:MoSe2, --elements Mo,Se)\n")
    print(mose2["species"].drop(columns=["frame"]).to_markdown(index=False, floatfmt=".4f"))
    print(
        f"\nAway from the boundaries ({a['away']} of {a['columns']} columns farther than {AWAY:g} Å from every complete "
        f"non-hexagonal ring and from the edge): of the {a['metal']} Mo columns' three nearest columns "
        f"**{100 * a['metal_by_chalcogen']:.1f} %** are Se2; of the {a['chalcogen']} Se2 columns' **{100 * a['chalcogen_by_metal']:.1f} %** "
        "are Mo (bar: >= 95 % each). Figure: ../real/mose2_species.png\n"
    )
    print("## mos2_se_implanted_stem.dm3 (tmd_stem, 0.127 Å/px from the file, --elements Mo,S,Se)\n")
    print(mos2["species"].drop(columns=["frame"]).to_markdown(index=False, floatfmt=".4f"))
    print(
        f"\n{b['columns']} columns, each with a species; {b['selenium']} hold Se (SSe, Se2, Se), "
        f"{b['on_chalcogen_sites']} of them on chalcogen sites (two or three of their three nearest columns are metal). "
        f"Positions: benchmarks/real/out/mos2_se_species/species_sites.parquet; figure ../real/mos2_se_species.png\n"
    )


if __name__ == "__main__":
    main()
