#!/bin/bash
# Checks docs/distributed.md's two multi-machine recipes on three "hosts": Linux network namespaces h1, h2, h3
# (10.9.0.11-13) joined by a bridge, each with its own network stack, so every task talks to the others over
# real TCP between addresses, never loopback. Needs root and iproute2; run from the repository root:
#   sudo tools/multihost/run.sh
# 1. The TF1 way: tf1_trainer.py, one tf.train.Server per host (ps on h1, workers on h2 and h3).
# 2. An existing Dask cluster: `dask scheduler` on h1, one named `dask worker` per host, and a client in the
#    root namespace on dask://10.9.0.11:8786.
set -euo pipefail
PY=${PY:-$(pwd)/.venv/bin/python}
DASK=$(dirname "$PY")/dask
HERE=$(cd "$(dirname "$0")" && pwd)
LOGS=$(mktemp -d)

up() {
  ip link add br9 type bridge && ip addr add 10.9.0.1/24 dev br9 && ip link set br9 up
  for i in 1 2 3; do
    ip netns add h$i
    ip link add veth$i type veth peer name eth0 netns h$i
    ip link set veth$i master br9 && ip link set veth$i up
    ip netns exec h$i ip addr add 10.9.0.1$i/24 dev eth0
    ip netns exec h$i ip link set eth0 up && ip netns exec h$i ip link set lo up
  done
}

down() {
  for i in 1 2 3; do ip netns pids h$i 2>/dev/null | xargs -r kill 2>/dev/null || true; done
  sleep 1
  for i in 1 2 3; do ip netns del h$i 2>/dev/null || true; ip link del veth$i 2>/dev/null || true; done
  ip link del br9 2>/dev/null || true
}

trap down EXIT
down
up

echo "== 1. one tf.train.Server per host (logs in $LOGS)"
ip netns exec h1 timeout 180 "$PY" "$HERE/tf1_trainer.py" ps 0 >"$LOGS/ps.log" 2>&1 &
ip netns exec h3 timeout 170 "$PY" "$HERE/tf1_trainer.py" worker 1 >"$LOGS/worker1.log" 2>&1 &
ip netns exec h2 timeout 170 "$PY" "$HERE/tf1_trainer.py" worker 0 >"$LOGS/worker0.log" 2>&1
wait %2
grep -h "^worker" "$LOGS/worker0.log" "$LOGS/worker1.log"
ip netns pids h1 | xargs -r kill

echo "== 2. an existing Dask cluster"
ip netns exec h1 "$DASK" scheduler --host 10.9.0.11 --port 8786 --no-dashboard >"$LOGS/scheduler.log" 2>&1 &
sleep 3
for i in 1 2 3; do
  task=$([ $i = 1 ] && echo /job:ps/task:0 || echo /job:worker/task:$((i - 2)))
  ip netns exec h$i "$DASK" worker tcp://10.9.0.11:8786 --host 10.9.0.1$i --nthreads 1 --name "$task" \
    --no-dashboard >"$LOGS/dask_worker$i.log" 2>&1 &
done
sleep 6
timeout 120 "$PY" "$HERE/dask_client.py" dask://10.9.0.11:8786
