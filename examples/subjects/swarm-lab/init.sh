#!/bin/bash
# The lab's one-shot `init` service (examples/subjects/swarm-lab.star):
# make the lab's nodes one swarm. Idempotent, so `up` may run it again at
# any time: a node already in the swarm is left alone.
#
# Environment: NODES (space-separated node addresses, the first is the
# first manager), MANAGERS (how many of them are managers).
set -euo pipefail

read -r -a nodes <<<"$NODES"
first="${nodes[0]}"
n="${#nodes[@]}"

on() { local addr="$1"; shift; docker -H "tcp://$addr:2375" "$@"; }
state() { on "$1" info --format '{{.Swarm.LocalNodeState}}'; }

# The first node starts the swarm unless it already is in one (a re-run).
if [ "$(state "$first")" != active ]; then
	echo "init: swarm init on $first"
	on "$first" swarm init --advertise-addr "$first" >/dev/null
fi
worker_token="$(on "$first" swarm join-token -q worker)"
manager_token="$(on "$first" swarm join-token -q manager)"

for i in "${!nodes[@]}"; do
	[ "$i" = 0 ] && continue
	addr="${nodes[$i]}"
	s="$(state "$addr")"
	[ "$s" = active ] && continue
	token="$worker_token"
	role=worker
	if [ "$i" -lt "$MANAGERS" ]; then
		token="$manager_token"
		role=manager
	fi
	# A node stuck half-way (pending, error) starts over.
	if [ "$s" != inactive ]; then
		on "$addr" swarm leave --force >/dev/null 2>&1 || true
	fi
	echo "init: $addr joins as $role"
	on "$addr" swarm join --token "$token" --advertise-addr "$addr" "$first:2377" >/dev/null
done

# A join returns before the manager lists the node as Ready: wait for all
# of them, boundedly (60 x 0.5 s).
for ((try = 0; try < 60; try++)); do
	ready="$(on "$first" node ls --format '{{.Status}}' | grep -c '^Ready$' || true)"
	if [ "$ready" = "$n" ]; then
		echo "init: $n nodes Ready; manager at tcp://$first:2375"
		exit 0
	fi
	sleep 0.5
done
echo "init: only $ready of $n nodes Ready after 30 s:" >&2
on "$first" node ls >&2 || true
exit 1
