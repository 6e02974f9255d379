"""Convert the recorded Gaussian runs of Kazdan et al. (Collapse or Thrive?) to collapsecheck CSVs.

Input: notebooks/00_gaussian_fitting/data/sweeps=k3mipjqi_runs_histories.parquet from
github.com/RylanSchaeffer/KoyejoLab-Collapse-or-Thrive (added in commit
c7afafde980a4c816c32331c4270472369bc89f6, unchanged at 369132e38c6b4774efbdafead228a0858497e17e;
git blob f306c3febd5b76ecd0918d13fc0ab8da76e18584, 3,985,711 bytes).

Needs pandas + pyarrow (not collapsecheck dependencies; run it in any other environment):
    python convert.py path/to/sweeps=k3mipjqi_runs_histories.parquet seedmap.csv OUTDIR

Per run (W&B run_id), "Model-Fitting Iteration" t = 1..100 holds "Fit Covariance (Numerical)"
= np.cov(pool, bias=True) (ddof 0), the pool being the n real draws plus every synthetic
batch so far ("Accumulate") or only the latest batch ("Replace"). W&B history download
duplicated some rows verbatim (76 runs have every row twice); they are dropped.
Output rows: generation 0 = the true model (std 1, log_var 0: sigma_squared = 1.0);
generation t = iteration t, std = sqrt(var), log_var = log(var). The replicate column is
the run's seed, recovered in seedmap.csv by bit-exact regeneration (regen.py).
No mean column: only ||mu_t - 0||^2 was logged, so the sign of mu_t is lost.
"""
import sys

import numpy as np
import pandas as pd

src, seedmap, out = sys.argv[1:4]
df = pd.read_parquet(src).drop_duplicates()
assert (df["Data Dimension"] == 1).all() and (df["Initial Noise"] == 1).all()
seeds = pd.read_csv(seedmap).set_index("run_id")["seed"]
for (setting, n), g in df.groupby(["Setting", "Num. Samples per Iteration"]):
    g = g.sort_values(["run_id", "Model-Fitting Iteration"])
    assert g.groupby("run_id").size().eq(100).all()
    assert g.groupby("run_id")["Model-Fitting Iteration"].apply(lambda s: list(s) == list(range(1, 101))).all()
    rows = []
    for rid, gg in g.groupby("run_id"):
        rep = int(seeds[rid])
        rows.append((rep, 0, 1.0, 0.0))
        for t, v in zip(gg["Model-Fitting Iteration"], gg["Fit Covariance (Numerical)"]):
            rows.append((rep, int(t), float(np.sqrt(v)), float(np.log(v))))
    o = pd.DataFrame(rows, columns=["replicate", "generation", "std", "log_var"]).sort_values(["replicate", "generation"])
    path = f"{out}/{setting.lower()}_n{n}.csv"
    with open(path, "w", newline="\n") as fh:
        fh.write("replicate,generation,std,log_var\n")
        for r in o.itertuples(index=False):
            fh.write(f"{r.replicate},{r.generation},{r.std!r},{r.log_var!r}\n")
    print(path, o.replicate.nunique(), "replicates")
