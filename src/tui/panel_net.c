/*
 * panel_net.c — the network as the hub sees it: the partition groups, a
 * link matrix (row: from, column: to; each cell in-flight/dropped, a cross
 * where the link is cut, so one-way cuts show as one cross), and the
 * messages in flight with how far along their delivery they are (clients'
 * requests and the servers' replies among them: a client is "c1", never an
 * index into the matrix).
 *
 * etcd members speak TCP (gRPC between peers, HTTP to clients) through the
 * hub's proxies: there are no messages to count, so the matrix holds the
 * bytes each link has carried, and a row and a column for the outside
 * clients (the request line's, the RESP gateway's, etcdctl) where they fit.
 * A cut link's bytes are stalled in the proxy, not dropped.
 */
#include <inttypes.h>
#include <string.h>

#include "panel.h"

static void groups_line(const struct tui_view *v, char *buf, size_t len)
{
	const struct net_model *net = hub_net(v->hub);
	uint32_t n = hub_size(v->hub);
	if (net_whole(net)) {
		snprintf(buf, len, "all links up");
		return;
	}
	size_t o = 0;
	bool seen[NET_MAX + 1] = { 0 };
	for (uint32_t i = 1; i <= n; i++) {
		if (seen[i])
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s{", o ? " " : "");
		bool firstm = true;
		for (uint32_t j = i; j <= n && o < len; j++) {
			if (seen[j])
				continue;
			bool same = j == i || (net_link_up(net, i, j) && net_link_up(net, j, i));
			if (!same)
				continue;
			seen[j] = true;
			o += (size_t)snprintf(buf + o, len - o, firstm ? "%u" : ",%u", j);
			firstm = false;
		}
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "}");
		if (o >= len)
			break;
	}
}

/* A byte count in at most 5 columns: "812", "1.2K", "34K", "3.4M". */
static const char *short_bytes(uint64_t b, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	if (b < 1000) {
		snprintf(buf, len, "%" PRIu64, b);
		return buf;
	}
	double x = (double)b;
	int u = -1;
	while (x >= 999.5 && u < 3) {
		x /= 1000.0;
		u++;
	}
	snprintf(buf, len, x < 9.95 ? "%.1f%c" : "%.0f%c", x, units[u]);
	return buf;
}

/* One cell of the etcd matrix: the bytes from -> to, or a cross where the
 * proxy stalls them. */
static void bytes_cell(WINDOW *w, const struct tui_view *v, int y, int x, bool up, uint64_t bytes)
{
	char b[16];
	if (!up) {
		wattron(w, ui_attr(v, CP_CUT, (int)A_BOLD) | (int)A_BOLD);
		ui_print(w, y, x, 7, "     %s ", ui_glyph(v, "✗", "x"));
		wattroff(w, ui_attr(v, CP_CUT, (int)A_BOLD) | (int)A_BOLD);
	} else {
		ui_print(w, y, x, 7, "%6s ", short_bytes(bytes, b, sizeof b));
	}
}

static void draw_etcd(struct panel *p, const struct tui_view *v)
{
	ui_frame(p, v, "Network: bytes carried");
	WINDOW *w = p->win;
	const struct hub *h = v->hub;
	const struct net_model *net = hub_net(h);
	uint32_t n = hub_size(h);
	int inner = p->w - 2;
	char line[256], b[16];
	groups_line(v, line, sizeof line);
	ui_print(w, 1, 2, inner - 1, "groups %s", line);
	int y = 2, last = p->h - 2;          /* rows [1, last] inside the frame */
	/* groups, a header, a row per member, the legend; then the clients' row */
	bool matrix = p->h >= (int)n + 5 && inner >= 8 + 7 * (int)n;
	bool crow = matrix && p->h >= (int)n + 6;
	bool ccol = matrix && inner >= 8 + 7 * ((int)n + 1);   /* and column */
	uint64_t peers = 0, clients = 0;
	for (uint32_t i = 1; i <= n; i++) {
		clients += hub_etcd_bytes(h, 0, i) + hub_etcd_bytes(h, i, 0);
		for (uint32_t j = 1; j <= n; j++)
			if (i != j)
				peers += hub_etcd_bytes(h, i, j);
	}
	if (matrix) {
		ui_print(w, y++, 2, inner - 1, "from\\to");
		for (uint32_t j = 1; j <= n; j++)
			ui_print(w, y - 1, 10 + 7 * (int)(j - 1), 7, "    n%u", j);
		if (ccol)
			ui_print(w, y - 1, 10 + 7 * (int)n, 7, "%6s", "cl");
		for (uint32_t i = 1; i <= n; i++, y++) {
			ui_print(w, y, 4, 5, "n%u", i);
			for (uint32_t j = 1; j <= n; j++) {
				int x = 10 + 7 * (int)(j - 1);
				if (i == j)
					ui_print(w, y, x, 7, "     %s", ui_glyph(v, "·", "."));
				else
					bytes_cell(w, v, y, x, net_link_up(net, i, j), hub_etcd_bytes(h, i, j));
			}
			/* what the member answered its clients */
			if (ccol)
				bytes_cell(w, v, y, 10 + 7 * (int)n, !net->isolated[i], hub_etcd_bytes(h, i, 0));
		}
		if (crow) {
			ui_print(w, y, 2, 8, "clients");
			for (uint32_t j = 1; j <= n; j++)
				bytes_cell(w, v, y, 10 + 7 * (int)(j - 1), !net->isolated[j], hub_etcd_bytes(h, 0, j));
			y++;
		}
		ui_print(w, y++, 2, inner - 1, "%s%s", ui_glyph(v, "bytes row→column, ✗ cut", "bytes row->column, x cut"),
			 ccol ? ", cl clients" : "");
	}
	char pb[16];
	if (y <= last)
		ui_print(w, y++, 2, inner - 1, "peers %s, clients %s in all", short_bytes(peers, pb, sizeof pb),
			 short_bytes(clients, b, sizeof b));
	wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
	ui_wrap(w, y, 2, inner - 1, last, "TCP streams, not messages: none to drop");
	wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
}

static void draw(struct panel *p, const struct tui_view *v)
{
	if (v->etcd && v->hub) {
		draw_etcd(p, v);
		return;
	}
	ui_frame(p, v, "Network");
	if (!v->hub)
		return;
	WINDOW *w = p->win;
	const struct net_model *net = hub_net(v->hub);
	uint32_t n = hub_size(v->hub);
	int inner = p->w - 2;
	char line[256];
	groups_line(v, line, sizeof line);
	ui_print(w, 1, 2, inner - 1, "groups %s  drops %" PRIu64, line, hub_drop_count(v->hub));
	/* in-flight counts per link */
	uint32_t inflight[NET_MAX + 1][NET_MAX + 1] = { { 0 } };
	int total = 0, clients = 0;
	for (const struct hub_msg *m = hub_inflight(v->hub); m; m = hub_inflight_next(v->hub, m)) {
		if (m->from <= NET_MAX && m->to <= NET_MAX)
			inflight[m->from][m->to]++;
		else
			clients++;
		total++;
	}
	int y = 2;
	bool matrix = p->h >= (int)n + 6 && inner >= 8 + 7 * (int)n;
	if (matrix) {
		ui_print(w, y++, 2, inner - 1, "from\\to");
		for (uint32_t j = 1; j <= n; j++)
			ui_print(w, y - 1, 10 + 7 * (int)(j - 1), 7, "  n%u", j);
		for (uint32_t i = 1; i <= n; i++, y++) {
			ui_print(w, y, 4, 5, "n%u", i);
			for (uint32_t j = 1; j <= n; j++) {
				int x = 10 + 7 * (int)(j - 1);
				if (i == j) {
					ui_print(w, y, x, 7, "   %s", ui_glyph(v, "·", "."));
				} else if (!net_link_up(net, i, j)) {
					wattron(w, ui_attr(v, CP_CUT, (int)A_BOLD) | (int)A_BOLD);
					ui_print(w, y, x, 9, "   %s   ", ui_glyph(v, "✗", "x"));
					wattroff(w, ui_attr(v, CP_CUT, (int)A_BOLD) | (int)A_BOLD);
				} else {
					ui_print(w, y, x, 7, "%3u/%-3" PRIu64, inflight[i][j], hub_link_drops(v->hub, i, j));
				}
			}
		}
	}
	char cl[32] = "";
	if (clients)
		snprintf(cl, sizeof cl, " (%d client)", clients);
	ui_print(w, y++, 2, inner - 1, "in flight: %d%s%s", total, cl,
		 matrix ? ui_glyph(v, "  (cell: flying/dropped, ✗ cut)", "  (cell: flying/dropped, x cut)") : "");
	int rows = p->h - 1 - y;
	int k = 0;
	for (const struct hub_msg *m = hub_inflight(v->hub); m && k < rows; m = hub_inflight_next(v->hub, m), k++) {
		double span = (double)(m->deliver_at - m->sent_at);
		double f = span > 0 ? ((double)v->clock - (double)m->sent_at) / span : 1.0;
		bool sel = m->id == v->sel_msg;
		if (sel)
			wattron(w, (int)A_REVERSE);
		char a[16], b[16];
		ui_print(w, y + k, 2, inner - 1, "#%-5" PRIu64 " %-18s %s%s%s%s ", m->id, wire_msg_name(m->type),
			 ui_endpoint(m->from, a, sizeof a), ui_glyph(v, "→", "->"), ui_endpoint(m->to, b, sizeof b),
			 m->dup ? " dup" : "    ");
		int bx = getcurx(w);
		int bw = inner - bx - 1;
		if (bw > 24)
			bw = 24;
		if (bw > 2)
			ui_bar(w, v, bw, f, (int)A_NORMAL);
		if (sel)
			wattroff(w, (int)A_REVERSE);
	}
}

const struct panel_ops panel_net_ops = { "network", draw, NULL };
