// SPDX-License-Identifier: GPL-2.0
/*
 * crak_sockmig: the peer of a frozen connection, told to wait.
 *
 * A frozen socket answers nothing.  A peer with data on its way would time
 * out, retransmit and back off, and after the thaw wait out its backed-off
 * timer before it sends again.  So a freeze sends the peer, in the socket's
 * name, the ACK the socket would send if its receive buffer were full: the
 * same sequence numbers and timestamps, a zero window (Freeze-TCP, as mobile
 * hosts do before a handoff).  The peer then probes the window instead of
 * timing out (Linux counts no retransmission timeout for such probes).
 *
 * The thaw, and the thaw of a connection restored from an image taken that
 * way, sends the socket's own ACK with its window (the peer takes the window
 * of a segment with the same sequence number as the zero window's): a peer
 * that had nothing in flight sends at once; one whose data was held sends
 * on as the thaw delivers its probes and the socket answers them.  (A
 * Linux 6.1 peer takes a zero window only from a segment that acknowledges
 * something new or comes after the last one that set its window: when the
 * socket's last word was an ACK of everything, it keeps its window.)
 *
 * A connection frozen in place sends it again every pause_refresh_ms
 * (main.c), before the peer gives up.  The ACK is the only segment a frozen
 * connection sends: while it goes out the socket is locked, so nothing of
 * its own can slip by with it.  A crakvif device lets it out even while it
 * holds the connection's flow.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/sock.h>
#include <net/tcp.h>

#include "crak_compat.h"
#include "sockmig.h"

/* The states in which the peer still sends something the socket ACKs. */
#define SOCKMIG_PAUSE_STATES	(TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | \
				 TCPF_CLOSING | TCPF_LAST_ACK | TCPF_CLOSE_WAIT)

/* A segment of ours without its TCP-MD5 signature would be dropped. */
static bool sockmig_signed(const struct tcp_sock *tp)
{
#ifdef CONFIG_TCP_MD5SIG
	return rcu_access_pointer(tp->md5sig_info);
#else
	return false;
#endif
}

/* What tcp_acceptable_seq() says (6.12's): within the peer's window. */
static u32 sockmig_acceptable_seq(const struct tcp_sock *tp)
{
	if (!before(tcp_wnd_end(tp), tp->snd_nxt) ||
	    (tp->rx_opt.wscale_ok &&
	     tp->snd_nxt - tcp_wnd_end(tp) < (1U << tp->rx_opt.rcv_wscale)))
		return tp->snd_nxt;
	return tcp_wnd_end(tp);
}

/*
 * A peer over the loopback is on this host: frozen with it (a localhost pair
 * moves whole), or already gone with its dumped end, when the kernel would
 * answer the zero window with a reset.
 */
static bool sockmig_peer_local(struct sock *sk)
{
	const struct dst_entry *dst = __sk_dst_get(sk);

	return dst && dst->dev && (dst->dev->flags & IFF_LOOPBACK);
}

/* Whether the zero window went out. */
bool sockmig_send_pause(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct sockmig_seg seg = { .out = true };
	int err;

	if (sockmig_is_udp(sk))
		return false;
	lock_sock(sk);
	if (!(BIT(sk->sk_state) & SOCKMIG_PAUSE_STATES) || sock_flag(sk, SOCK_DEAD) ||
	    tp->repair || crak_tcp_usec_ts(tp) || sockmig_signed(tp) ||
	    sockmig_peer_local(sk)) {
		release_sock(sk);
		return false;
	}
	seg.seq = sockmig_acceptable_seq(tp);
	seg.ack = tp->rcv_nxt;
	seg.ts = tp->rx_opt.tstamp_ok;
	seg.tsval = crak_tcp_ts_get(tp);
	seg.tsecr = tp->rx_opt.ts_recent;
	sockmig_inject_begin(sk, true);
	err = sockmig_send_seg(sk, &seg);
	sockmig_inject_end(sk);
	release_sock(sk);
	if (err)
		pr_debug("no zero window for the peer: %d\n", err);
	return !err;
}

/* The socket's own ACK, with its window. */
void sockmig_resume(struct sock *sk)
{
	if (sockmig_is_udp(sk))
		return;
	lock_sock(sk);
	if ((BIT(sk->sk_state) & SOCKMIG_PAUSE_STATES) && !sock_flag(sk, SOCK_DEAD) &&
	    !tcp_sk(sk)->repair)
		crak_tcp_send_ack(sk);
	release_sock(sk);
}
