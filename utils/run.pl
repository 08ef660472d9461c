#!/usr/bin/env perl
# utils/run.pl: run a command as one job or as an array of jobs on this machine.
#
# Usage: run.pl [options] [JOB=A:B] <log> <command> [<arg> ...]
#   e.g.: utils/run.pl --max-jobs-run 4 JOB=1:8 exp/make_fbank/log/fbank.JOB.log \
#           python -m chain.bin.compute_feats data/train/split8/JOB dump/train/JOB
#
# Contract.
#   JOB=A:B   runs B-A+1 jobs with ids A..B; every occurrence of the variable name
#             (JOB here; any NAME=A:B works) in <log> and in the command is replaced
#             by the job id. JOB=N runs the single job N. Without it, one job runs.
#   <log>     receives the job's stdout and stderr, after a header line with the
#             command and the start time and followed by a footer with the exit status
#             and the elapsed time. Its directory is created. With more than one job
#             the log name must contain the variable, so that each job has its own log.
#   command   run with `bash -c`. A single word is taken as a whole command line, so
#             `run.pl JOB=1:2 l/JOB.log "echo JOB | cat"` pipes. Several words are
#             joined with spaces; a word with whitespace or quotes is single-quoted,
#             others are kept verbatim, so `\|` and `\>` given as words act as a pipe
#             and a redirection (the Kaldi convention).
# Options:
#   --max-jobs-run N   at most N jobs at once (default: all jobs at once)
#   --gpu N, --mem M, --num-threads T, --num-tasks N, --time T, --config FILE
#                      resources and settings of cluster backends (utils/slurm.pl);
#                      accepted and ignored here, so that cmd.sh can switch backends freely
#   (--opt=value is accepted too). Jobs read their stdin from /dev/null.
# Exit status: 0 when every job exits 0; 1 when any job fails, after printing
#   "run.pl: N of M jobs failed, see <log> ..." naming each failed log; 2 on a usage
#   error. SIGINT/SIGTERM/SIGUSR1: passed on to the running jobs (each job's process group),
#   no further job starts, and run.pl waits for the running ones to end (a trainer writes
#   its checkpoint; their logs get their footers), then exits 128 + the signal number
#   (130, 143, 138); a second signal kills them (SIGKILL) and exits at once.
#   Jobs die with run.pl: when run.pl itself is killed (kill -9, or a kill of its process
#   group, which does not reach the jobs' own groups), each job's group gets SIGTERM
#   within 0.1 s, and SIGKILL 10 s later if it is still running; the log footer says so.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use POSIX qw(strftime :sys_wait_h);
use Time::HiRes qw(time);

my $usage = <<'END';
Usage: run.pl [options] [JOB=A:B] <log> <command> [<arg> ...]
  e.g.: utils/run.pl JOB=1:4 exp/log/fbank.JOB.log python -m chain.bin.compute_feats data/split4/JOB dump/JOB
Options:
  --max-jobs-run N   at most N jobs at once (default: all)
  --gpu N --mem M --num-threads T --num-tasks N --time T --config FILE
                     accepted and ignored (cluster backends use them)
END

sub usage_error {
    my ($msg) = @_;
    print STDERR $usage, "run.pl: $msg\n";
    exit 2;
}

# 1. Options.
my %ignored = map { $_ => 1 } qw(gpu mem num-threads num-tasks time config);
my $max_jobs = 0;
while (@ARGV && $ARGV[0] =~ /^--/) {
    my $opt = shift @ARGV;
    last if $opt eq '--';
    my ($name, $value) = $opt =~ /^--([^=]+)=(.*)$/s ? ($1, $2) : (substr($opt, 2), undef);
    if ($name eq 'help') { print $usage; exit 0; }
    if ($name ne 'max-jobs-run' && !$ignored{$name}) {
        usage_error("unknown option --$name (valid: --max-jobs-run, --gpu, --mem, --num-threads, --num-tasks, --time, --config)");
    }
    if (!defined $value) {
        usage_error("option --$name needs a value") unless @ARGV;
        $value = shift @ARGV;
    }
    if ($name eq 'max-jobs-run') {
        usage_error("--max-jobs-run must be a positive integer, got '$value'") unless $value =~ /^[1-9][0-9]*$/;
        $max_jobs = $value;
    }
}

# 2. Job array, log, command.
my ($var, $first, $last) = ('', 1, 1);
if (@ARGV && $ARGV[0] =~ /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/) {
    my $range;
    ($var, $range) = ($1, $2);
    shift @ARGV;
    if ($range =~ /^(\d+):(\d+)$/) { ($first, $last) = ($1, $2); }
    elsif ($range =~ /^(\d+)$/) { ($first, $last) = ($1, $1); }
    else { usage_error("bad job range '$var=$range' (expected e.g. JOB=1:4 or JOB=3)"); }
    ($first, $last) = ($first + 0, $last + 0);    # "01" -> 1
    usage_error("bad job range '$var=$range': first id $first is after last id $last") if $first > $last;
}
usage_error("expected a log file and a command, got " . scalar(@ARGV) . " argument(s)") if @ARGV < 2;
my $log = shift @ARGV;
my $num_jobs = $last - $first + 1;
if ($num_jobs > 1 && index($log, $var) < 0) {
    usage_error("$num_jobs jobs would share the log $log: put $var in the log name (e.g. log/x.$var.log)");
}

my $cmd;
if (@ARGV == 1) {
    $cmd = $ARGV[0];
} else {
    $cmd = join ' ', map {
        my $w = $_;
        if ($w =~ /^[^\s'"]+$/) { $w }
        else { $w =~ s/'/'\\''/g; "'$w'" }
    } @ARGV;
}

sub for_job {
    my ($text, $id) = @_;
    $text =~ s/\Q$var\E/$id/g if $var ne '';
    return $text;
}

sub stamp { return strftime('%Y-%m-%d %H:%M:%S', localtime); }

# The command of one job, in the job's process group; returns its wait status. If run.pl
# goes away (its pid is no longer our parent), the group is stopped: SIGTERM, then SIGKILL.
my $run_pl = $$;    # the parent of every job
sub run_command {
    my ($job_cmd) = @_;
    my $pid = fork();
    die "run.pl: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        exec('bash', '-c', $job_cmd) or exit 127;
    }
    my $orphaned_at;
    while (1) {
        return $? if waitpid($pid, WNOHANG) == $pid;
        if (!defined $orphaned_at && getppid() != $run_pl) {
            $orphaned_at = time;
            $| = 1;    # STDOUT is the job's log: the line must precede the footer
            print "\nrun.pl: run.pl was killed; stopping this job (SIGTERM)\n";
            kill 'TERM', -getpgrp();    # our own SIGTERM handler does nothing: we write the footer
        } elsif (defined $orphaned_at && time - $orphaned_at > 10) {
            kill 'KILL', $pid;
            $orphaned_at = time;
        }
        select(undef, undef, undef, 0.1);
    }
}

# 3. One job: header, the command with stdout+stderr into the log, footer.
sub run_job {
    my ($id) = @_;
    my ($job_log, $job_cmd) = (for_job($log, $id), for_job($cmd, $id));
    my $dir = dirname($job_log);
    eval { make_path($dir) unless -d $dir; 1 } or die "run.pl: cannot create log dir $dir: $@";
    open(my $fh, '>', $job_log) or die "run.pl: cannot write log $job_log: $!\n";
    my $start = time;
    print $fh "# $job_cmd\n# started at " . stamp() . "\n";
    close $fh;
    open(STDOUT, '>>', $job_log) or die "run.pl: cannot write log $job_log: $!\n";
    open(STDERR, '>&', \*STDOUT) or die "run.pl: cannot redirect stderr: $!\n";
    my $ret = run_command($job_cmd);
    my $status = $ret == -1 ? 127 : ($ret & 127 ? 128 + ($ret & 127) : $ret >> 8);
    open($fh, '+<', $job_log) or die "run.pl: cannot write log $job_log: $!\n";
    seek($fh, -1, 2);
    read($fh, my $last_char, 1);
    seek($fh, 0, 2);
    print $fh "\n" if $last_char ne "\n";    # the footer starts on its own line
    printf $fh "# ended with exit status %d at %s, elapsed time %.1f s\n", $status, stamp(), time - $start;
    close $fh;
    return $status;
}

# 4. Run the jobs, at most $max_jobs at a time; a signal stops new starts (see the header).
$max_jobs = $num_jobs if $max_jobs == 0 || $max_jobs > $num_jobs;
my %running;    # pid -> job id
my %status;     # job id -> exit status
my %exit_status = (INT => 130, TERM => 143, USR1 => 138);    # 128 + the signal number
my $stopped = '';    # the first signal received
my $stop = sub {
    my ($sig) = @_;
    my @groups = map { -$_ } keys %running;
    if ($stopped ne '') {
        kill 'KILL', @groups;
        print STDERR "run.pl: got SIG$sig again, killed " . scalar(@groups) . " running job(s)\n";
        exit $exit_status{$stopped};
    }
    $stopped = $sig;
    kill $sig, @groups;
    print STDERR "run.pl: got SIG$sig, passed it on to " . scalar(@groups) . " running job(s); "
        . "waiting for them to end\n";
};
local @SIG{keys %exit_status} = ($stop) x keys %exit_status;

my $next = $first;
while (($stopped eq '' && $next <= $last) || %running) {
    while ($stopped eq '' && $next <= $last && keys(%running) < $max_jobs) {
        my $pid = fork();
        die "run.pl: fork failed: $!\n" unless defined $pid;
        if ($pid == 0) {
            @SIG{keys %exit_status} = (sub { }) x keys %exit_status;    # outlive the command: write the footer
            setpgrp(0, 0);    # own process group, so that a stop reaches the whole pipeline
            open(STDIN, '<', '/dev/null') or die "run.pl: cannot open /dev/null: $!\n";
            exit(run_job($next) ? 1 : 0);
        }
        $running{$pid} = $next++;
    }
    my $pid = waitpid(-1, 0);
    next if $pid <= 0 || !exists $running{$pid};
    $status{delete $running{$pid}} = $?;
}
if ($stopped ne '') {
    print STDERR "run.pl: stopped by SIG$stopped; " . scalar(keys %status) . " of $num_jobs job(s) ran, see $log\n";
    exit $exit_status{$stopped};
}

my @failed = grep { $status{$_} != 0 } sort { $a <=> $b } keys %status;
if (@failed) {
    my $n = @failed;
    print STDERR "run.pl: $n of $num_jobs jobs failed, see " . join(' ', map { for_job($log, $_) } @failed) . "\n";
    exit 1;
}
exit 0;
