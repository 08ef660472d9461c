# Job backend of the recipe: how `$train_cmd` and `$decode_cmd` run their jobs.
# Both take the utils/run.pl calling convention:
#   $train_cmd [--gpu N --mem M --num-threads T] JOB=1:N exp/log/x.JOB.log command ...
# local: jobs run on this machine, in parallel (utils/run.pl).
# slurm: jobs are sbatch jobs, JOB=1:N an array job (utils/slurm.pl); conf/slurm.conf
#        maps the options to sbatch flags (partition, gres: edit it for your cluster).
cmd_backend=local

case "${cmd_backend}" in
    local)
        export train_cmd="utils/run.pl"
        export decode_cmd="utils/run.pl"
        ;;
    slurm)
        # training and feature extraction: 2 CPU threads; decoding: one thread per job
        export train_cmd="utils/slurm.pl --config conf/slurm.conf --mem 8G --num-threads 2"
        export decode_cmd="utils/slurm.pl --config conf/slurm.conf --mem 4G --num-threads 1"
        ;;
    *)
        echo "cmd.sh: unknown cmd_backend '${cmd_backend}' (valid: local, slurm)" >&2
        return 1
        ;;
esac
