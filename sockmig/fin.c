// SPDX-License-Identifier: GPL-2.0
/*
 * crak_sockmig: connections past a FIN.
 *
 * An image's sequence numbers count the FINs as TCP does (rcv_nxt is one
 * past the peer's, write_seq one past ours); its queues hold data only.
 * TCP repair rebuilds an ESTABLISHED connection and has no way to set a
 * state, so a connection past a FIN is rebuilt ESTABLISHED without its FINs
 * and then brought to its state the way TCP got there:
 *
 *   - our FIN, sent: shutdown(SHUT_WR) while repair mode takes what is
 *     pushed as sent (TCP_SEND_QUEUE), so it is queued for retransmission
 *     and nothing goes out;
 *   - our FIN, acknowledged (FIN_WAIT2): the same, then the peer's ACK of
 *     it;
 *   - our FIN, never sent: shutdown(SHUT_WR) once repair mode is left and
 *     the unsent data queued, as the owner did;
 *   - the peer's FIN: the peer's segment carrying it.
 *
 * The peer's segments are handed to the socket through the stack
 * (segment.c): the loopback delivers them, as if from the wire.  The peer
 * already has what they cause the socket to answer (the ACK of its FIN),
 * and takes it again as a duplicate.  The hooks let them by even while a superseded original still
 * holds the tuple frozen.  A LAST_ACK connection takes the peer's FIN
 * first, a CLOSING one sends its own first, as they did; one whose FIN was
 * never sent ends up LAST_ACK either way.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "sockmig.h"

#define SOCKMIG_FIN_IN	(TCPF_CLOSE_WAIT | TCPF_CLOSING | TCPF_LAST_ACK)
#define SOCKMIG_FIN_OUT	(TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_CLOSING | TCPF_LAST_ACK)

/* How long the socket may take to see a segment the loopback delivers. */
#define SOCKMIG_INJECT_WAIT_MS	2000

bool sockmig_geom(u8 state, const struct crak_sock_rec_tcp *rt, struct sockmig_geom *g)
{
	u32 una = le32_to_cpu(rt->snd_una);
	u32 nxt = le32_to_cpu(rt->snd_nxt);
	u32 wseq = le32_to_cpu(rt->write_seq);
	u32 rcv_nxt = le32_to_cpu(rt->rcv_nxt);
	u32 copied = le32_to_cpu(rt->copied_seq);

	memset(g, 0, sizeof(*g));
	if (!sockmig_conn_state(state))
		return false;
	g->fin_in = BIT(state) & SOCKMIG_FIN_IN;
	g->fin_read = g->fin_in && copied == rcv_nxt;
	g->fin_out = BIT(state) & SOCKMIG_FIN_OUT;
	g->fin_acked = state == TCP_FIN_WAIT2;
	g->fin_sent = g->fin_out && nxt == wseq;

	g->rcv_start = copied - g->fin_read;
	g->rcv_end = rcv_nxt - g->fin_in;
	g->snd_start = una - g->fin_acked;
	g->snd_sent = nxt - g->fin_sent;
	g->snd_end = wseq - g->fin_out;
	return true;
}

/* Whether our FIN is where the state says: unacknowledged in the send queue,
 * or acknowledged.  (The queues' lengths check the rest.)
 */
bool sockmig_geom_valid(const struct crak_sock_rec_tcp *rt, const struct sockmig_geom *g)
{
	u32 una = le32_to_cpu(rt->snd_una);
	u32 wseq = le32_to_cpu(rt->write_seq);

	if (g->fin_acked)
		return una == wseq;
	return !g->fin_out || wseq != una;
}

/* Sends the socket a segment from its peer, through the loopback. */
static int sockmig_inject(struct sock *sk, bool fin, u32 seq, u32 ack, u16 win)
{
	const struct sockmig_seg seg = { .seq = seq, .ack = ack, .win = win, .fin = fin };

	return sockmig_send_seg(sk, &seg);
}

/* Until the socket is in @state, which the segment just sent brings. */
static int sockmig_wait_state(struct sock *sk, int state)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(SOCKMIG_INJECT_WAIT_MS);

	while (READ_ONCE(sk->sk_state) != state) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		usleep_range(500, 1000);
	}
	return 0;
}

/* The peer's window, as its segments carry it. */
static u16 sockmig_peer_win(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return min_t(u32, tp->snd_wnd >> tp->rx_opt.snd_wscale, U16_MAX);
}

static int sockmig_peer_fin(struct sock *sk, int state)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return sockmig_inject(sk, true, tp->rcv_nxt, tp->snd_una, sockmig_peer_win(sk)) ?:
	       sockmig_wait_state(sk, state);
}

/* Our FIN, as sent: pushed while repair mode takes the send queue as sent. */
static int sockmig_fin_as_sent(struct socket *sock)
{
	struct sock *sk = sock->sk;

	return sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) ?:
	       kernel_sock_shutdown(sock, SHUT_WR) ?:
	       sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
}

int sockmig_fin_restore(struct socket *sock, u8 state, const struct sockmig_geom *g,
			struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;
	int err = 0;

	/* A superseded original may still hold the tuple frozen: let these by. */
	sockmig_inject_begin(sk, false);
	if (!g->fin_sent) {
		if (g->fin_in)
			err = sockmig_peer_fin(sk, TCP_CLOSE_WAIT);
	} else if (state == TCP_LAST_ACK) {
		err = sockmig_peer_fin(sk, TCP_CLOSE_WAIT) ?: sockmig_fin_as_sent(sock);
	} else {
		err = sockmig_fin_as_sent(sock);
		if (!err && g->fin_in)
			err = sockmig_peer_fin(sk, TCP_CLOSING);
		if (!err && g->fin_acked)
			err = sockmig_inject(sk, false, tcp_sk(sk)->rcv_nxt, tcp_sk(sk)->snd_nxt,
					     sockmig_peer_win(sk)) ?:
			      sockmig_wait_state(sk, TCP_FIN_WAIT2);
	}
	sockmig_inject_end(sk);
	if (!err && READ_ONCE(sk->sk_state) != state && g->fin_sent)
		err = -EPROTO;
	if (err)
		NL_SET_ERR_MSG(extack, "cannot bring the connection past its FINs (is lo up?)");
	return err;
}

/* Our FIN, never sent: the owner's shutdown, once the unsent data is queued. */
int sockmig_fin_unsent(struct sock *sk)
{
	if (!sk->sk_socket)
		return 0;
	return kernel_sock_shutdown(sk->sk_socket, SHUT_WR);
}
