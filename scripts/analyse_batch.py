"""Every per-sample stage of a batch of samples (config analysis.samples_per_job > 0).

Inputs: the batch's images, truths and model files. Output: one folder with a folder per sample
holding what the per-sample rules would write (atomscope.steps.FILES): maps and sites, scores
(samples with a truth), geometry tables, motifs, figures, species tables. Params: ``samples``
(name -> images, pixel size, truth, model, inference section) and the config sections
evaluation, geometry, motifs, report. A sample's bad input stops the batch, naming the sample.
"""

from atomscope.logs import configure_logging
from atomscope.steps import analyse_batch

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    analyse_batch(snakemake.params.samples, snakemake.output[0], snakemake.params.sections, threads=snakemake.threads)
