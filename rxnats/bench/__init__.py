"""``rxnats bench``: throughput and latency benchmarks, alone or side by side with peers.

Entry points (for ``rxnats.cli`` and for scripts):

- :func:`main(argv) -> int <main>`: parse ``argv`` (the arguments after ``bench``) and run.
- :func:`add_bench_arguments(parser) <add_bench_arguments>` then
  :func:`run_bench(args) -> int <run_bench>`: the same, with a parser (sub-parser) you own.

Examples::

    rxnats bench pub --count 1000000 --size 16
    rxnats bench pub,pubsub,request --size 16,1KiB,64KiB --json
    rxnats bench request --clients 2 --concurrency 16
    rxnats bench request --compare --concurrency 1,10,100   # latency percentiles per row
    rxnats bench request --compare --libs rxnats,nats-py,raw  # raw-client: the floor
    rxnats bench js-pub-async,js-fetch,kv-get --compare --libs rxnats,nats-py
    rxnats bench pub,pubsub,request --compare --rounds 5 --natscore-python /tmp/venv313/bin/python

Modes are described in :mod:`rxnats.bench.runner` (the JetStream and key-value ones in
:mod:`rxnats.bench.jetstream`); the comparison in
:mod:`rxnats.bench.compare`. When nothing answers at ``--server`` (default ``$NATS_URL``
or ``nats://127.0.0.1:4222``) an embedded ``nats-server`` is started for the run.
The progress bar needs ``rich`` (``pip install 'rxnats[bench]'``); without it the output
is plain text.
"""

from __future__ import annotations

from rxnats.bench.command import add_bench_arguments, main, run_bench

__all__ = ["add_bench_arguments", "main", "run_bench"]
