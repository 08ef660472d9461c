# Job backend of the recipe: how `$train_cmd` and `$decode_cmd` run their jobs.
# Both take the utils/run.pl calling convention:
#   $train_cmd [--gpu N --mem M --num-threads T] JOB=1:N exp/log/x.JOB.log command ...
# local: jobs run on this machine, in parallel (utils/run.pl).
cmd_backend=local

case "${cmd_backend}" in
    local)
        export train_cmd="utils/run.pl"
        export decode_cmd="utils/run.pl"
        ;;
    *)
        echo "cmd.sh: unknown cmd_backend '${cmd_backend}' (valid: local)" >&2
        return 1
        ;;
esac
