#!/usr/bin/env perl
# utils/slurm.pl: run a command as one Slurm job or as a Slurm job array, and wait for it.
#
# Usage: slurm.pl [options] [JOB=A:B] <log> <command> [<arg> ...]
#   e.g.: utils/slurm.pl --config conf/slurm.conf --mem 4G JOB=1:8 exp/log/fbank.JOB.log \
#           python -m chain.bin.feat_extract --config conf/fbank.yaml --job JOB ...
#
# Contract: the calling convention of utils/run.pl (JOB substitution in <log> and in the
#   command, one log per job with run.pl's header and footer, how command words are joined).
#   JOB=A:B becomes one sbatch array job (--array=A-B, %N with --max-jobs-run N); each task
#   runs `utils/run.pl JOB=<task id> <log> <command>` in the current directory, with the
#   current environment as far as the config's `command` line exports it (--export=ALL in
#   the recipes' conf/slurm.conf). Slurm's own messages about a task (time limit, memory)
#   are appended to its log. slurm.pl prints the Slurm job id and waits until every task
#   has written its log footer or left the queue.
# Options:
#   --config FILE      how the options below become sbatch flags (default: conf/slurm.conf):
#                        command sbatch <flags>      the command and the flags of every job
#                        option NAME=VALUE <flags>   flags for --NAME VALUE (an exact value)
#                        option NAME=* <flags>       flags for any other value; $0 is the value
#                        default NAME=VALUE          the value when --NAME is not given
#                      NAME spells dashes as underscores (--num-threads is num_threads);
#                      text after # is a comment
#   --max-jobs-run N   at most N tasks of the array at once
#   --gpu N, --mem M, --num-threads T, --num-tasks N, --time T, ...
#                      any option the config has an `option` line for
#   (--opt=value is accepted too). Tasks read their stdin from /dev/null (run.pl).
# Exit status: 0 when every task exits 0; 1 when any fails, after printing
#   "slurm.pl: N of M jobs failed, see <log> ..." (a task that Slurm ended before its log
#   footer shows its Slurm state, e.g. "<log> (TIMEOUT)"), or when sbatch refuses the job;
#   2 on a usage error or a bad config. On SIGINT/SIGTERM the job is cancelled (scancel).
use strict;
use warnings;
use Cwd qw(getcwd);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempfile);
use FindBin qw($RealBin);
use List::Util qw(min);
use Time::HiRes qw(sleep time);

my $usage = <<'END';
Usage: slurm.pl [options] [JOB=A:B] <log> <command> [<arg> ...]
  e.g.: utils/slurm.pl --config conf/slurm.conf --mem 4G JOB=1:4 exp/log/feats.JOB.log \
          python -m chain.bin.feat_extract ... --job JOB
Options:
  --config FILE      sbatch flags for the options (default: conf/slurm.conf)
  --max-jobs-run N   at most N tasks at once (default: all)
  --gpu N --mem M --num-threads T --num-tasks N --time T ...
                     whatever the config maps to sbatch flags
END

sub usage_error { print STDERR $usage, "slurm.pl: $_[0]\n"; exit 2; }
sub config_error { print STDERR "slurm.pl: $_[0]\n"; exit 2; }
sub fail { print STDERR "slurm.pl: $_[0]\n"; exit 1; }

# 1. Options, checked against the config once it is read.
my ($config, $max_jobs, @given) = ('conf/slurm.conf', 0);
while (@ARGV && $ARGV[0] =~ /^--/) {
    my $opt = shift @ARGV;
    last if $opt eq '--';
    my ($name, $value) = $opt =~ /^--([^=]+)=(.*)$/s ? ($1, $2) : (substr($opt, 2), undef);
    if ($name eq 'help') { print $usage; exit 0; }
    $value //= @ARGV ? shift @ARGV : usage_error("option --$name needs a value");
    if ($name eq 'config') { $config = $value; }
    elsif ($name eq 'max-jobs-run') {
        usage_error("--max-jobs-run must be a positive integer, got '$value'") unless $value =~ /^[1-9][0-9]*$/;
        $max_jobs = $value;
    } else { push @given, [$name, $value]; }
}

# 2. The config: the sbatch command line, a flag rule per option value, defaults.
my (@command, %rules, %value);
open(my $conf_fh, '<', $config)
    or usage_error("cannot read the config $config: $! (pass --config FILE; recipes have conf/slurm.conf)");
while (my $line = <$conf_fh>) {
    (my $text = $line) =~ s/#.*//s;
    my ($kind, @words) = split ' ', $text;
    next unless defined $kind;
    my ($name, $val) = @words && $words[0] =~ /^(\w+)=(\S+)$/ ? ($1, $2) : ();
    if ($kind eq 'command' && @words) { @command = @words; }
    elsif ($kind eq 'option' && defined $name) { $rules{$name}{$val} = [@words[1 .. $#words]]; }
    elsif ($kind eq 'default' && defined $name && @words == 1) { $value{$name} = $val; }
    else {
        chomp $line;
        config_error("$config:$.: expected 'command sbatch ...', 'option NAME=VALUE flags' "
                     . "or 'default NAME=VALUE', got '$line'");
    }
}
close $conf_fh;
config_error("$config: no 'command sbatch ...' line") unless @command;
for my $name (sort keys %value) {
    config_error("$config: 'default $name=...' has no 'option $name=...' line") unless $rules{$name};
}
for (@given) {
    my ($opt, $val) = @$_;
    (my $name = $opt) =~ tr/-/_/;
    unless ($rules{$name}) {
        my $valid = join ', ', map { '--' . tr/_/-/r } sort keys %rules;
        usage_error("unknown option --$opt (valid: --config, --max-jobs-run and what $config maps: $valid)");
    }
    $value{$name} = $val;
}
my @flags = @command;
for my $name (sort keys %value) {
    my $val = $value{$name};
    my $rule = $rules{$name}{$val} // $rules{$name}{'*'} // config_error(
        "$config: no 'option $name=$val' or 'option $name=*' line for --" . ($name =~ tr/_/-/r) . " $val");
    push @flags, map { s/\$0/$val/gr } @$rule;
}

# 3. Job array, log, command (the checks of run.pl, made before anything is submitted).
my ($var, $first, $last) = ('', 1, 1);
if (@ARGV && $ARGV[0] =~ /^([A-Za-z_]\w*)=(.*)$/s) {
    ($var, my $range) = ($1, $2);
    shift @ARGV;
    ($first, $last) = $range =~ /^(\d+)(?::(\d+))?$/ ? ($1 + 0, ($2 // $1) + 0)
        : usage_error("bad job range '$var=$range' (expected e.g. JOB=1:4 or JOB=3)");
    usage_error("bad job range '$var=$range': first id $first is after last id $last") if $first > $last;
}
usage_error("expected a log file and a command, got " . scalar(@ARGV) . " argument(s)") if @ARGV < 2;
my ($log, @cmd) = @ARGV;
my @ids = ($first .. $last);
if (@ids > 1 && index($log, $var) < 0) {
    usage_error(scalar(@ids) . " jobs would share the log $log: put $var in the log name (e.g. log/x.$var.log)");
}

sub for_job {
    my ($text, $id) = @_;
    $text =~ s/\Q$var\E/$id/g if $var ne '';
    return $text;
}

sub shell_quote { my ($w) = @_; $w =~ s/'/'\\''/g; return "'$w'"; }

# 4. Submit: the batch script hands the task to run.pl; Slurm's output joins the task's log.
for my $id (@ids) {
    my $task_log = for_job($log, $id);
    my $dir = dirname($task_log);
    eval { make_path($dir) unless -d $dir; 1 } or fail("cannot create log dir $dir: $@");
    unlink $task_log;    # a footer from an earlier run must not count
}
my $cwd = getcwd();
(my $output = $log) =~ s/%/%%/g;    # sbatch's file name pattern: %a is the task id
$output =~ s/\Q$var\E/%a/g if $var ne '';
$output = File::Spec->rel2abs($output);
(my $job_name = basename($log)) =~ s/\.log$//;
$job_name =~ s/\.?\Q$var\E//g if $var ne '';
$job_name = 'slurm.pl' if $job_name eq '';
my @task = $var ne '' ? ("$var=\${SLURM_ARRAY_TASK_ID}") : ();
my ($script_fh, $script) = tempfile('slurm.pl.XXXXXX', TMPDIR => 1, UNLINK => 1);
print $script_fh "#!/usr/bin/env bash\n# written by utils/slurm.pl in $cwd\n",
    join(' ', 'exec', shell_quote("$RealBin/run.pl"), @task, map { shell_quote($_) } $log, @cmd), "\n";
close $script_fh;
my @array = $var ne '' ? ("--array=$first-$last" . ($max_jobs ? "%$max_jobs" : '')) : ();
my @sbatch = (@flags, '--parsable', "--job-name=$job_name", "--chdir=$cwd", "--output=$output",
              '--open-mode=append', @array, $script);
open(my $reply_fh, '-|', @sbatch) or fail("cannot run $sbatch[0]: $!");
my $reply = do { local $/; <$reply_fh> } // '';
close $reply_fh;
fail("'@sbatch' exited with status " . ($? >> 8) . " (its flags come from $config)") if $?;
my ($job_id) = $reply =~ /^(\d+)/ or fail("sbatch replied '$reply', expected a job id");
print STDERR "slurm.pl: submitted Slurm job $job_id ($job_name" . ($var ne '' ? ", $var=$first:$last" : '') . ")\n";

my $cancel = sub {
    my ($sig) = @_;
    system('scancel', $job_id);
    print STDERR "slurm.pl: got SIG$sig, cancelled Slurm job $job_id\n";
    exit($sig eq 'INT' ? 130 : 143);
};
local $SIG{INT} = $cancel;
local $SIG{TERM} = $cancel;

# 5. Wait. A task is done when its log has run.pl's footer; squeue, asked every 10 s,
#    tells which tasks Slurm ended without one. Killed ones fail at once; a task that
#    completed, or left the queue, gets 30 s more for its footer to show on a network
#    file system, and one preempted or lost with its node for a requeue to happen.
sub footer_status {
    my ($path) = @_;
    open(my $fh, '<', $path) or return undef;
    my $size = -s $fh;
    seek($fh, $size > 4096 ? $size - 4096 : 0, 0);
    my $tail = do { local $/; <$fh> } // '';
    my @codes = $tail =~ /^# ended with exit status (\d+) at .* elapsed time [\d.]+ s$/mg;
    return @codes ? $codes[-1] : undef;
}

my %killed = map { $_ => 1 } qw(FAILED CANCELLED TIMEOUT OUT_OF_MEMORY BOOT_FAIL DEADLINE REVOKED);
my %ended = (%killed, map { $_ => 1 } qw(COMPLETED PREEMPTED NODE_FAIL), 'not in squeue' => 1);
sub slurm_states {    # task id -> state of the tasks squeue knows; undef if squeue failed
    my $out = `squeue --noheader --array --states=all --jobs=$job_id --format='%K %T' 2>&1`;
    return {} if $? && $out =~ /Invalid job id/;
    if ($?) { print STDERR "slurm.pl: squeue failed (will retry): $out"; return undef; }
    return { map { my ($id, $state) = split; ($id eq 'N/A' ? $first : $id) => $state } split /\n/, $out };
}

my (%status, %note, %gone_since);
my @waiting = @ids;
my ($pause, $next_query) = (0.1, time + 10);
while (@waiting) {
    sleep $pause;
    $pause = min(2, $pause * 1.5);
    @waiting = grep { !defined($status{$_} = footer_status(for_job($log, $_))) } @waiting;
    next unless @waiting && time >= $next_query;
    $next_query = time + 10;
    my $states = slurm_states();
    next unless $states;
    for my $id (@waiting) {
        my $state = $states->{$id} // 'not in squeue';
        if (!$ended{$state}) { delete $gone_since{$id}; next; }    # queued or running (again)
        $gone_since{$id} //= time;
        ($status{$id}, $note{$id}) = (1, " ($state, no log footer)")
            if $killed{$state} || time - $gone_since{$id} >= 30;
    }
    @waiting = grep { !defined $status{$_} } @waiting;
}

my @failed = grep { $status{$_} != 0 } @ids;
if (@failed) {
    my $n = @failed;
    my $logs = join ' ', map { for_job($log, $_) . ($note{$_} // '') } @failed;
    fail("$n of " . scalar(@ids) . " jobs failed, see $logs (Slurm job $job_id)");
}
exit 0;
