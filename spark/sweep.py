#!/usr/bin/env python3
"""Sweep logs for leaked credentials on a Spark cluster: leaksweep on every
executor, one share of the files per task, the findings merged at the end.

On a cluster (leaksweep installed on every node, or shipped with --files):

    spark-submit --master yarn --files /usr/local/bin/leaksweep spark/sweep.py \\
        --out sweep/ hdfs:///archive/2026/ s3a://lb-logs/

On one machine, with PySpark from PyPI (Java 17 or later):

    python3 spark/sweep.py --master 'local[2]' --out sweep/ /var/log/archive/

Inputs are local paths (which every executor must see the same, as on a
shared mount) or Hadoop file system URLs (hdfs://, s3a://, ...). They are
listed on the driver and dealt to the tasks by size; each task runs
`leaksweep scan` on its local files, and pipes each remote file to it under
its URL. The driver then writes, under --out (a local directory):

    findings.jsonl   every finding, in the order and form one
                     `leaksweep scan --format jsonl` over all inputs gives
    secrets.jsonl    one record per secret, as `--group-by secret` gives

and, with --parquet URL, the findings as Parquet there too. Exit status as
leaksweep's: 0 nothing found, 1 findings, 2 some input could not be read.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run leaksweep over many files with Spark.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="local path or Hadoop file system URL")
    p.add_argument("--out", required=True,
                   help="local directory for findings.jsonl and secrets.jsonl")
    p.add_argument("--leaksweep", default="leaksweep",
                   help="the leaksweep binary on the executors and the driver "
                        "(a name shipped with --files is found there)")
    p.add_argument("--tasks", type=int, default=0,
                   help="tasks to split the files into (default: twice the "
                        "default parallelism)")
    p.add_argument("--parquet", metavar="URL",
                   help="also write the findings as Parquet to URL")
    p.add_argument("--master", help="Spark master when run with python3 "
                                    "(spark-submit sets its own)")
    p.add_argument("--scan-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for every leaksweep scan "
                        "(repeatable), e.g. --scan-arg=--min-confidence=high")
    return p.parse_args(argv)


def is_url(name):
    return "://" in name


def list_inputs(spark, inputs):
    """(name, size, remote) of every file under the inputs. Local files are
    named as leaksweep names what it walks (input, then the path below it),
    so that findings read the same as a single run's."""
    files = []
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    for name in inputs:
        if not is_url(name):
            if os.path.isfile(name):
                files.append((name, os.path.getsize(name), False))
                continue
            for root, dirs, names in os.walk(name):
                dirs.sort()
                for n in sorted(names):
                    path = os.path.join(root, n)
                    if os.path.isfile(path):
                        files.append((path, os.path.getsize(path), False))
            continue
        path = jvm.org.apache.hadoop.fs.Path(name)
        it = path.getFileSystem(conf).listFiles(path, True)
        while it.hasNext():
            status = it.next()
            files.append((status.getPath().toString(), status.getLen(), True))
    return files


def deal(files, tasks):
    """The files in `tasks` shares of about equal bytes, largest first."""
    shares = [[0, []] for _ in range(max(1, min(tasks, len(files))))]
    for f in sorted(files, key=lambda f: -f[1]):
        share = min(shares, key=lambda s: s[0])
        share[0] += f[1]
        share[1].append(f)
    return [s[1] for s in shares if s[1]]


def executable(name):
    """The leaksweep binary as this process can run it: a name shipped
    with --files is in the task's SparkFiles directory."""
    if os.sep in name or shutil.which(name):
        return name
    from pyspark import SparkFiles
    shipped = SparkFiles.get(os.path.basename(name))
    if os.path.exists(shipped):
        os.chmod(shipped, 0o755)
        return shipped
    return name


def leaksweep_scan(binary, scan_args, argv_tail, data=None, cwd=None):
    """Runs `leaksweep scan` (jsonl) and yields ("f", finding line, 0) for
    its findings, then ("e", its stderr, exit status) if it said anything
    or failed."""
    cmd = [executable(binary), "scan", "--format", "jsonl", "-q",
           "--no-progress", "--no-config"] + scan_args + argv_tail
    proc = subprocess.run(cmd, input=data, cwd=cwd,
                          stdin=subprocess.DEVNULL if data is None else None,
                          capture_output=True, check=False)
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line.strip():
            yield ("f", line, 0)
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode not in (0, 1) or err:
        yield ("e", err or "leaksweep exited with %d" % proc.returncode,
               proc.returncode)


def scan_local(binary, scan_args, cwd):
    """A task over a share of local files: one leaksweep run for all, in
    the driver's working directory, so that paths named relative to it
    read the same files and are reported as named. (An executor of a
    cluster runs in a work directory of its own; local mode shares the
    driver's.)"""
    def run(names):
        names = list(names)
        if names:
            yield from leaksweep_scan(binary, scan_args, ["--"] + names,
                                      cwd=cwd if os.path.isdir(cwd) else None)
    return run


def scan_remote(binary, scan_args):
    """A task over remote files, read by Spark (whole, into the executor's
    memory): each piped to leaksweep under its URL."""
    def run(pairs):
        for url, data in pairs:
            yield from leaksweep_scan(binary, scan_args, ["--label", url, "-"],
                                      bytes(data))
    return run


def merge(binary, parts, out, extra):
    """`leaksweep merge` of the tasks' findings into `out`; its status."""
    return subprocess.run([executable(binary), "merge", "--format", "jsonl", "-q"] + extra
                          + ["-o", out, parts], check=False).returncode


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("leaksweep")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    try:
        files = list_inputs(spark, args.inputs)
        tasks = args.tasks or 2 * sc.defaultParallelism
        local = deal([f for f in files if not f[2]], tasks)
        remote = [f[0] for f in files if f[2]]
        rdd = sc.parallelize([[f[0] for f in share] for share in local],
                             max(1, len(local)))
        rdd = rdd.flatMap(lambda names: names).mapPartitions(
            scan_local(args.leaksweep, args.scan_arg, os.getcwd()))
        if remote:
            pairs = sc.binaryFiles(",".join(remote), minPartitions=tasks)
            rdd = rdd.union(pairs.mapPartitions(
                scan_remote(args.leaksweep, args.scan_arg)))
        out = rdd.collect()
        found = sum(1 for kind, _, _ in out if kind == "f")
        incomplete = False
        os.makedirs(args.out, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", dir=args.out,
                                         delete=False) as parts:
            for kind, text, status in out:
                if kind == "f":
                    parts.write(text + "\n")
                else:
                    incomplete = incomplete or status not in (0, 1)
                    print(text, file=sys.stderr)
        try:
            for name, extra in (("findings.jsonl", []),
                                ("secrets.jsonl", ["--group-by", "secret"])):
                status = merge(args.leaksweep, parts.name,
                               os.path.join(args.out, name), extra)
                incomplete = incomplete or status not in (0, 1)
        finally:
            os.unlink(parts.name)
        if args.parquet:
            with open(os.path.join(args.out, "findings.jsonl")) as f:
                lines = f.read().splitlines()
            spark.read.json(sc.parallelize(lines, 1)).write.mode("overwrite") \
                .parquet(args.parquet)
    finally:
        spark.stop()
    print("leaksweep on Spark: %d files, %d findings%s"
          % (len(files), found,
             "; some input could not be read" if incomplete else ""),
          file=sys.stderr)
    return 2 if incomplete else (1 if found else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
