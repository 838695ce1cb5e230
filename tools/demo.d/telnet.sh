#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A telnet session moves while its user types: busybox's telnetd in a pod
# on node a gives its client, on node peer, an interactive shell on one of
# the pod's terminals; the user sets a
# variable, then starts a command (sleep 10) and types a line and a half
# ahead (selftests/pod/tty_client.py).  While the command runs, crak
# migrate moves the pod, server, connection, shell, command and terminal,
# to node b: the command ends there, the same shell answers on the same
# terminal, and what was typed ahead runs.
source "$(dirname "$0")/lib.sh"

demo_dir demo-telnet
ip=192.0.2.170
port=7300

crakd=$(crakd_start b "$(ip4 b):7201" "$dir/key" "$dir/crakd.log") || exit 1
on a "crak run --detach --name telnet --addr $ip/24 --link eth0 -- \
	busybox telnetd -F -K -b $ip -p $port -l /bin/sh" || exit 1
until_on a 30 ss -N telnet -Hltn "'sport = :$port'" > /dev/null || exit 1
say "server: busybox telnetd in pod telnet on node a, $ip:$port"
client=$(on_bg peer "/usr/bin/python3 selftests/pod/tty_client.py --telnet $ip $port $dir")
wait_file -s "$dir/answer1" 60 || exit 1
say "user on node peer, in sh -i on the pod's terminal: X=kept; echo ... -> $(cut -d" " -f1-5 "$dir/answer1")"
wire=$(capture_start peer eth0 "tcp port $port and tcp[tcpflags] & (tcp-syn|tcp-rst) != 0" \
	"$dir/wire.pcap")
touch "$dir/moving"
wait_file "$dir/sent2" 30 || exit 1
say "user: runs 'sleep 10; echo ...', types 'echo third=...' and half of 'echo partial' ahead"
out=$(on a crak migrate telnet --to "$(ip4 b):7201" --key "$dir/key" 2>&1) || { echo "$out"; exit 1; }
say "a: $out"
wait_file -s "$dir/answer2" 60 || { cat "$dir/error" 2> /dev/null; exit 1; }
say "user: the command ends, answered from node b: $(cut -d" " -f1-5 "$dir/answer2")"
wait_file -s "$dir/partial" 30 || { cat "$dir/error" 2> /dev/null; exit 1; }
say "user: what was typed ahead ran there: third=3, and the half line, finished: partial"
wait_job "$client" > /dev/null
rc=$?
capture_stop "$wire" "$dir/wire.pcap"
syn_rst=$(tcpdump -nr "$dir/wire.pcap" 2> /dev/null | wc -l)
on b "crak ps | grep -q '^telnet:' && crak stop telnet" > /dev/null
kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null
if [ $rc = 0 ] && [ "$syn_rst" = 0 ] &&
	[ "$(cut -d' ' -f1-5 "$dir/answer1")" = "$(cut -d' ' -f1-5 "$dir/answer2")" ]; then
	echo "The telnet session moved to node b mid-command: same shell, same terminal, nothing typed lost; no SYN, no reset."
else
	echo "The session did not survive the move: $(cat "$dir/error" 2> /dev/null)"
	exit 1
fi
rm -rf "$dir"
