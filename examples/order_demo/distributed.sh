#!/usr/bin/env bash
# The order demo as a distributed system on one machine: the stock, payment, logistics and
# notify services each in a process of their own, then the order service publishing a burst.
# Each service exits once it has accounted for every order; this script fails if any does not.
#
#   examples/order_demo/distributed.sh 'nats://127.0.0.1:4222?namespace=demo' [ORDERS]
#   examples/order_demo/distributed.sh 'amqp://guest:guest@127.0.0.1:5672/%2f?namespace=demo' [ORDERS]
set -euo pipefail
cd "$(dirname "$0")/../.."

url=${1:?usage: $0 URL [ORDERS]  (a nats:// or amqp:// URL)}
orders=${2:-2000}
services=(stock payment logistics notify)

cargo build --example order_demo --features nats,amqp
demo="${CARGO_TARGET_DIR:-target}/debug/examples/order_demo"
logs=$(mktemp -d)
pids=()
stop_all() { kill "${pids[@]}" 2>/dev/null || true; }
trap stop_all EXIT

for role in "${services[@]}"; do
  "$demo" --url "$url" --role "$role" --orders "$orders" >"$logs/$role.log" 2>&1 &
  pids+=($!)
done
# A service's group exists on the broker once it is ready; orders published before would pass it by.
for role in "${services[@]}"; do
  for _ in $(seq 1 300); do grep -q "service ready" "$logs/$role.log" && break; sleep 0.1; done
  grep -q "service ready" "$logs/$role.log" || { echo "$role did not start:"; cat "$logs/$role.log"; exit 1; }
done

"$demo" --url "$url" --role orders --orders "$orders"

# Give the services five minutes at most to finish their share.
(sleep 300 && stop_all) 2>/dev/null &
watchdog=$!
failed=0
for i in "${!services[@]}"; do
  if ! wait "${pids[$i]}"; then failed=1; fi
  printf '\n--- %s service ---\n' "${services[$i]}"
  tail -n +2 "$logs/${services[$i]}.log" | grep -v '^\S* \[' || true
done
kill "$watchdog" 2>/dev/null || true
rm -rf "$logs"
if [ "$failed" -ne 0 ]; then
  echo "a service did not account for every order" >&2
  exit 1
fi
echo "every service accounted for all $orders orders"
