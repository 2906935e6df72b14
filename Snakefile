# atomscope: atomic models -> simulated micrographs -> trained network -> inference
#            -> triangulation and statistics -> Zernike motifs -> report
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/structures.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/train.smk"

if SAMPLES_PER_JOB:  # config analysis.samples_per_job: one job per batch of samples, all stages

    include: "workflow/rules/batch.smk"

else:  # one job per stage and sample

    include: "workflow/rules/infer.smk"
    include: "workflow/rules/evaluate.smk"
    include: "workflow/rules/geometry.smk"
    include: "workflow/rules/motifs.smk"
    include: "workflow/rules/report.smk"


include: "workflow/rules/summary.smk"


rule all:
    input:
        rules.report_summary.output,
        (
            expand(rules.analyse_batch.output, batch=range(len(BATCHES)))
            if SAMPLES_PER_JOB
            else expand(rules.report_sample.output, sample=SAMPLES.index)
        ),
    default_target: True
