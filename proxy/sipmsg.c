/* sipmsg: checks, edits and serialization of SIP messages (see sipmsg.h). */
#include "sipmsg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_uniqueid.h>

#include "conn.h"
#include "digits.h"
#include "log.h"

/* Vectors msg_iovec may need: one per header plus body pieces. Beyond this
 * the message is serialized in one piece instead. */
#define MAX_IOVEC 128

int sipmsg_check_request(msg_t *msg, sip_t *sip, const char **phrase)
{
	/* Checked before anything else: a header Sofia could not parse leaves
	 * its field NULL, which would read as "absent" (a broken Max-Forwards
	 * would be laundered into a fresh 70). */
	if (sip->sip_error || msg_extract_errors(msg)) {
		*phrase = "Malformed Header";
		return -EBADMSG;
	}
	if (sip_sanity_check(sip) < 0) {
		*phrase = "Missing or Inconsistent Mandatory Header";
		return -EBADMSG;
	}
	if (!sip->sip_request->rq_url->url_host || sip->sip_request->rq_url->url_type == url_any) {
		*phrase = "Bad Request-URI";
		return -EBADMSG;
	}
	if (!sip->sip_via->v_branch) {
		*phrase = "Via Without Branch";
		return -EBADMSG;
	}
	if (sip->sip_content_length == NULL) {
		*phrase = "Missing Content-Length";
		return -EBADMSG;
	}
	return 0;
}

int sipmsg_check_response(msg_t *msg, sip_t *sip)
{
	if (sip->sip_error || msg_extract_errors(msg) || sip_sanity_check(sip) < 0 ||
	    !sip->sip_via->v_branch)
		return -EBADMSG;
	return 0;
}

static int add_dup(msg_t *msg, sip_t *sip, const void *h)
{
	return h ? sip_add_dup(msg, sip, (const sip_header_t *)h) : 0;
}

msg_t *sipmsg_response(msg_t *req, int status, const char *phrase)
{
	sip_t *rq = sip_object(req);
	msg_t *msg = msg_create(sip_default_mclass(), 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);

	if (!msg)
		return NULL;
	if (msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_status_create(home, status, phrase, NULL)) < 0 ||
	    add_dup(msg, sip, rq->sip_via) < 0 || add_dup(msg, sip, rq->sip_from) < 0 ||
	    add_dup(msg, sip, rq->sip_to) < 0 || add_dup(msg, sip, rq->sip_call_id) < 0 ||
	    add_dup(msg, sip, rq->sip_cseq) < 0)
		goto out_destroy;
	/* A request whose CSeq could not be parsed still gets its answer (a
	 * 400 saying so); the sender matches it by Via branch and Call-ID. */
	if (!rq->sip_cseq && rq->sip_request &&
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_cseq_create(home, 0, rq->sip_request->rq_method,
							      rq->sip_request->rq_method_name)) < 0)
		goto out_destroy;
	if (status > 100 && sip->sip_to && !sip->sip_to->a_tag) {
		char tag[20];

		/* A tag of our own: the dialog ends here. */
		snprintf(tag, sizeof(tag), "fp%08x", (unsigned)su_random());
		sip_to_tag(home, sip->sip_to, tag);
	}
	if (sipmsg_add_header(msg, "Server: fedproxy") < 0 || sip_complete_message(msg) < 0)
		goto out_destroy;
	return msg;
out_destroy:
	msg_destroy(msg);
	return NULL;
}

int sipmsg_add_header(msg_t *msg, const char *line)
{
	msg_header_t *h = msg_header_d(msg_home(msg), msg, line);

	if (!h)
		return -EINVAL;
	return msg_header_insert(msg, NULL, h) < 0 ? -ENOMEM : 0;
}

/* The parameters are allocated in the message's home, not on the stack:
 * msg_header_replace_param keeps the pointer. */
void sipmsg_mark_received(msg_t *msg, sip_t *sip, const char *ip, uint16_t port)
{
	sip_via_t *v = sip->sip_via;
	su_home_t *home = msg_home(msg);
	char text[DECIMAL_TEXT_MAX];

	if (!v)
		return;
	if (!v->v_host || strcmp(v->v_host, ip) != 0 || v->v_rport)
		msg_header_replace_param(home, v->v_common, su_strcat(home, "received=", ip));
	if (v->v_rport)
		msg_header_replace_param(home, v->v_common,
					 su_strcat(home, "rport=", decimal_text(port, text)));
}

bool sipmsg_decrement_max_forwards(msg_t *msg, sip_t *sip)
{
	sip_max_forwards_t *mf = sip->sip_max_forwards;

	if (!mf)
		return msg_header_insert(msg, (msg_pub_t *)sip,
					 (msg_header_t *)sip_max_forwards_make(msg_home(msg),
									       "70")) >= 0;
	if (mf->mf_count == 0)
		return false;
	mf->mf_count--;
	msg_fragment_clear(mf->mf_common);
	return true;
}

/* Built as a struct and copied into the home in one piece (the copy also
 * reads branch= into v_branch): no text formatted only to be parsed back. */
int sipmsg_push_via(msg_t *msg, sip_t *sip, const char *transport, const char *host,
		    uint16_t port, const char *branch)
{
	su_home_t *home = msg_home(msg);
	char text[DECIMAL_TEXT_MAX];
	msg_param_t params[] = { su_strcat(home, "branch=", branch), NULL };
	sip_via_t via[1], *v;

	sip_via_init(via);
	/* The copy turns a known protocol into Sofia's own constant. */
	via->v_protocol = su_strcat(home, "SIP/2.0/", transport);
	via->v_host = host;
	via->v_port = decimal_text(port, text);
	via->v_params = params;
	if (!via->v_protocol || !params[0])
		return -ENOMEM;
	v = sip_via_dup(home, via);
	return v ? msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)v) : -ENOMEM;
}

/* As a url_t that Sofia copies into the header in one piece: no parse. */
int sipmsg_push_record_route(msg_t *msg, sip_t *sip, const char *host, uint16_t port,
			     const char *params)
{
	char text[DECIMAL_TEXT_MAX];
	url_t url[1];
	sip_record_route_t *rr;

	url_init(url, url_sip);
	url->url_host = host;
	url->url_port = decimal_text(port, text);
	url->url_params = params;
	rr = sip_record_route_create(msg_home(msg), url, NULL);
	return rr ? msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)rr) : -ENOMEM;
}

int sipmsg_send(struct conn *c, msg_t *msg)
{
	msg_iovec_t vec[MAX_IOVEC];
	isize_t n;
	int r = 0;

	conn_count_sent(c);
	if (msg_serialize(msg, NULL) < 0 || msg_prepare(msg) < 0)
		return -EINVAL;
	n = msg_iovec(msg, vec, MAX_IOVEC);
	if (n <= 0 || n > MAX_IOVEC) {
		size_t len;
		char *s = msg_as_string(msg_home(msg), msg, NULL, 0, &len);

		return s ? conn_send(c, s, len) : -ENOMEM;
	}
	for (isize_t i = 0; i < n && r == 0; i++)
		r = conn_send(c, vec[i].mv_base, vec[i].mv_len);
	return r;
}

const char *sipmsg_extension_value(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (strcasecmp(u->un_name, name) == 0)
			return u->un_value;
	return NULL;
}

void sipmsg_remove_named(msg_t *msg, sip_t *sip, const char *name)
{
	msg_mclass_t const *mc = msg_mclass(msg);
	msg_href_t const *hr = msg_find_hclass(mc, name, NULL);

	if (hr && hr != mc->mc_unknown) {
		msg_header_t **slot = (msg_header_t **)((char *)sip + hr->hr_offset);

		if (*slot)
			msg_header_remove_all(msg, (msg_pub_t *)sip, *slot);
		return;
	}
	for (sip_unknown_t *u = sip->sip_unknown, *next; u; u = next) {
		next = u->un_next;
		if (strcasecmp(u->un_name, name) == 0)
			msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)u);
	}
}

void sipmsg_trace(const char *direction, const struct conn *c, msg_t *msg)
{
	size_t len = 0;
	char *text = msg_as_string(msg_home(msg), msg, NULL, 0, &len);

	log_info("trace %s %s:\n%.*s", direction, conn_peer(c), (int)len, text ? text : "");
}

const char *sipmsg_from_domain(const sip_t *sip)
{
	if (sip && sip->sip_from && sip->sip_from->a_url->url_host)
		return sip->sip_from->a_url->url_host;
	return "-";
}

const char *sipmsg_call_id(const sip_t *sip)
{
	return sip && sip->sip_call_id ? sip->sip_call_id->i_id : "-";
}

uint16_t sipmsg_url_port(const url_t *url, uint16_t def)
{
	return url->url_port ? (uint16_t)atoi(url->url_port) : def;
}
