"""Summary across samples: a table of statistics and detection scores, and a figure.

Inputs: geometry summaries of every sample, evaluation scores of samples with ground truth
(their paths in params ``tables``: the per-sample rules' files, or files in the batch folders),
training metrics. Outputs: ``table`` (TSV) and ``figure`` (PNG). Config: ``report``.
"""

import matplotlib.pyplot as plt

from atomscope.io import read_table
from atomscope.logs import configure_logging
from atomscope.report import summary_figure, summary_table

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    cfg = snakemake.params.report
    tables = snakemake.params.tables  # per-sample rules' outputs, or files in the batch folders of the inputs
    summaries = [read_table(path).assign(sample=sample) for sample, path in tables["summaries"].items()]
    scores = [read_table(path) for path in tables["scores"]]
    table = summary_table(summaries, scores)
    table.to_csv(snakemake.output.table, sep="\t", index=False, float_format="%.4g")
    figure = summary_figure(table, scores, read_table(snakemake.input.metrics))
    figure.savefig(snakemake.output.figure, dpi=cfg["dpi"])
    plt.close(figure)
    log.info("\n%s", table.to_string(index=False))
