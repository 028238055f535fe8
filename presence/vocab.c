/* vocab: the closed vocabularies the mapping file and the documents use.
 *
 * What may be written in the table (systems, their states and qualifiers:
 * reference section 4.3), how the systems we write put a state in PIDF
 * (section 3.2-3.4), and how wire words classify (section 2): RPID and
 * rpid-status activities, jabber:client show, Lync availability ranges and
 * LCIDs. Which row maps what is the table's business, not this file's. */
#include "presence/presence_int.h"

#include <string.h>

#define ST(s) (1u << PRES_ST_##s)
#define Q(q) (1u << PRES_Q_##q)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const state_names[PRES_ST_COUNT] = {
	[PRES_ST_NONE] = "*",
	[PRES_ST_AVAILABLE] = "available",
	[PRES_ST_AVAILABLE_IDLE] = "available-idle",
	[PRES_ST_BUSY] = "busy",
	[PRES_ST_BUSY_IDLE] = "busy-idle",
	[PRES_ST_DND] = "dnd",
	[PRES_ST_BRB] = "brb",
	[PRES_ST_AWAY] = "away",
	[PRES_ST_OFFLINE] = "offline",
	[PRES_ST_CHAT] = "chat",
	[PRES_ST_XA] = "xa",
	[PRES_ST_IDLE] = "idle",
};

static const char *const qual_names[PRES_Q_COUNT] = {
	[PRES_Q_NONE] = "",
	[PRES_Q_ON_THE_PHONE] = "on-the-phone",
	[PRES_Q_IN_A_CONFERENCE] = "in-a-conference",
	[PRES_Q_IN_A_MEETING] = "in-a-meeting",
	[PRES_Q_OUT_OF_OFFICE] = "out-of-office",
	[PRES_Q_URGENT_ONLY] = "urgent-interruptions-only",
	[PRES_Q_IN_PRESENTATION] = "in-presentation",
};

#define XMPP_STATES (ST(AVAILABLE) | ST(CHAT) | ST(AWAY) | ST(XA) | ST(DND) | ST(IDLE) | ST(OFFLINE))
#define JABBER8_STATES (ST(AVAILABLE) | ST(BUSY) | ST(DND) | ST(AWAY) | ST(IDLE) | ST(OFFLINE))

static const struct system {
	const char *name;
	uint32_t states, quals;
	bool foreign; /* on the far side of the edge: gets the legacy activity too */
} systems[PRES_SYS_COUNT] = {
	[PRES_SYS_LYNC] = { "lync",
			    ST(AVAILABLE) | ST(AVAILABLE_IDLE) | ST(BUSY) | ST(BUSY_IDLE) | ST(DND) |
				    ST(BRB) | ST(AWAY) | ST(OFFLINE),
			    Q(ON_THE_PHONE) | Q(IN_A_CONFERENCE) | Q(IN_A_MEETING) | Q(OUT_OF_OFFICE) |
				    Q(URGENT_ONLY) | Q(IN_PRESENTATION),
			    true },
	[PRES_SYS_AOL] = { "aol", ST(AVAILABLE) | ST(AWAY) | ST(IDLE) | ST(OFFLINE), 0, true },
	[PRES_SYS_XMPP] = { "xmpp", XMPP_STATES, 0, false },
	[PRES_SYS_JABBER8] = { "jabber8", JABBER8_STATES, 0, false },
	[PRES_SYS_FED_JABBER8] = { "fed-jabber8", JABBER8_STATES, 0, false },
	[PRES_SYS_FED_XMPP] = { "fed-xmpp", XMPP_STATES, 0, false },
	[PRES_SYS_WEBEX] = { "webex",
			     ST(AVAILABLE) | ST(DND) | ST(AWAY) | ST(XA) | ST(IDLE) | ST(OFFLINE),
			     Q(IN_A_MEETING), false },
	[PRES_SYS_SAMETIME] = { "sametime", ST(AVAILABLE) | ST(DND) | ST(AWAY) | ST(IDLE) | ST(OFFLINE),
				Q(IN_A_MEETING), false },
};

/* The systems fedproxy writes. Inside (xmpp): show for the XMPP gateway,
 * RPID for SIP watchers (section 3.2). Outside: what Lync reads, busy or
 * away (section 1.3); AOL gets the same. */
#define OPEN(show, act) { true, true, show, act, false }
#define IDLE(show, act) { true, true, show, act, true }
#define CLOSED { true, false, NULL, NULL, false }
static const struct pres_render renders[PRES_SYS_COUNT][PRES_ST_COUNT] = {
	[PRES_SYS_XMPP] = {
		[PRES_ST_AVAILABLE] = OPEN(NULL, NULL),
		[PRES_ST_CHAT] = OPEN("chat", NULL),
		[PRES_ST_AWAY] = OPEN("away", "away"),
		[PRES_ST_XA] = OPEN("xa", "away"),
		[PRES_ST_DND] = OPEN("dnd", "busy"),
		[PRES_ST_IDLE] = IDLE("away", "away"),
		[PRES_ST_OFFLINE] = CLOSED,
	},
	[PRES_SYS_LYNC] = {
		[PRES_ST_AVAILABLE] = OPEN(NULL, NULL),
		[PRES_ST_AVAILABLE_IDLE] = IDLE(NULL, NULL),
		[PRES_ST_BUSY] = OPEN(NULL, "busy"),
		[PRES_ST_BUSY_IDLE] = IDLE(NULL, "busy"),
		[PRES_ST_DND] = OPEN(NULL, "busy"),
		[PRES_ST_BRB] = OPEN(NULL, "away"),
		[PRES_ST_AWAY] = OPEN(NULL, "away"),
		[PRES_ST_OFFLINE] = CLOSED,
	},
	[PRES_SYS_AOL] = {
		[PRES_ST_AVAILABLE] = OPEN(NULL, NULL),
		[PRES_ST_AWAY] = OPEN(NULL, "away"),
		[PRES_ST_IDLE] = IDLE(NULL, "away"),
		[PRES_ST_OFFLINE] = CLOSED,
	},
};

/* Which systems each dialect translates between. */
static const struct pres_route routes[2][2] = {
	[PRES_DIALECT_LYNC] = { [PRES_INBOUND] = { PRES_SYS_LYNC, PRES_SYS_XMPP },
				[PRES_OUTBOUND] = { PRES_SYS_XMPP, PRES_SYS_LYNC } },
	[PRES_DIALECT_AOL] = { [PRES_INBOUND] = { PRES_SYS_AOL, PRES_SYS_XMPP },
			       [PRES_OUTBOUND] = { PRES_SYS_XMPP, PRES_SYS_AOL } },
};

static int find_name(const char *const *names, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return (int)i;
	return -1;
}

int pres_sys_find(const char *name, size_t len)
{
	for (size_t i = 0; i < PRES_SYS_COUNT; i++)
		if (strlen(systems[i].name) == len && memcmp(systems[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int pres_state_find(const char *name, size_t len)
{
	return find_name(state_names, PRES_ST_COUNT, name, len);
}

int pres_qual_find(const char *name, size_t len)
{
	/* Skip PRES_Q_NONE: "" is no qualifier anyone can write. */
	int i = find_name(qual_names + 1, PRES_Q_COUNT - 1, name, len);

	return i < 0 ? -1 : i + 1;
}

const char *pres_sys_name(enum pres_sys s)
{
	return systems[s].name;
}

const char *pres_state_name(enum pres_state s)
{
	return state_names[s];
}

const char *pres_qual_name(enum pres_qual q)
{
	return qual_names[q];
}

bool pres_sys_has_state(enum pres_sys s, enum pres_state st)
{
	return st != PRES_ST_NONE && (systems[s].states & (1u << st));
}

bool pres_sys_has_qual(enum pres_sys s, enum pres_qual q)
{
	return q != PRES_Q_NONE && (systems[s].quals & (1u << q));
}

bool pres_sys_foreign(enum pres_sys s)
{
	return systems[s].foreign;
}

/* AOL's four states: idle variants are idle; busy, DND and BRB are away,
 * the one "not here" state an AIM user had. */
static const struct fold {
	enum pres_sys sys;
	enum pres_state from, to;
} folds[] = {
	{ PRES_SYS_AOL, PRES_ST_AVAILABLE_IDLE, PRES_ST_IDLE },
	{ PRES_SYS_AOL, PRES_ST_BUSY_IDLE, PRES_ST_IDLE },
	{ PRES_SYS_AOL, PRES_ST_BUSY, PRES_ST_AWAY },
	{ PRES_SYS_AOL, PRES_ST_DND, PRES_ST_AWAY },
	{ PRES_SYS_AOL, PRES_ST_BRB, PRES_ST_AWAY },
};

enum pres_state pres_sys_fold(enum pres_sys s, enum pres_state st)
{
	for (size_t i = 0; i < COUNT(folds); i++)
		if (folds[i].sys == s && folds[i].from == st)
			return folds[i].to;
	return st;
}

const struct pres_render *pres_render_of(enum pres_sys s, enum pres_state st)
{
	return &renders[s][st];
}

const struct pres_route *pres_route_of(enum pres_dialect d, enum pres_direction dir)
{
	return d == PRES_DIALECT_LYNC || d == PRES_DIALECT_AOL ? &routes[d][dir] : NULL;
}

/* Section 2.4: RFC 4480 activity elements, rpid-status texts and Lync
 * tokens, as a state of Lync's vocabulary plus a qualifier. sipe's
 * "do-not-disturb" and "be-right-back" are kept as harmless aliases. */
static const struct word {
	const char *w;
	struct pres_activity a;
} activity_words[] = {
	{ "busy", { PRES_ST_BUSY, PRES_Q_NONE } },
	{ "on-the-phone", { PRES_ST_BUSY, PRES_Q_ON_THE_PHONE } },
	{ "meeting", { PRES_ST_BUSY, PRES_Q_IN_A_MEETING } },
	{ "appointment", { PRES_ST_BUSY, PRES_Q_IN_A_MEETING } },
	{ "in-a-meeting", { PRES_ST_BUSY, PRES_Q_IN_A_MEETING } },
	{ "in-a-conference", { PRES_ST_BUSY, PRES_Q_IN_A_CONFERENCE } },
	{ "urgent-interruptions-only", { PRES_ST_BUSY, PRES_Q_URGENT_ONLY } },
	{ "presentation", { PRES_ST_DND, PRES_Q_IN_PRESENTATION } },
	{ "performance", { PRES_ST_DND, PRES_Q_IN_PRESENTATION } },
	{ "in-presentation", { PRES_ST_DND, PRES_Q_IN_PRESENTATION } },
	{ "do-not-disturb", { PRES_ST_DND, PRES_Q_NONE } },
	{ "away", { PRES_ST_AWAY, PRES_Q_NONE } },
	{ "be-right-back", { PRES_ST_BRB, PRES_Q_NONE } },
	{ "vacation", { PRES_ST_AWAY, PRES_Q_OUT_OF_OFFICE } },
	{ "holiday", { PRES_ST_AWAY, PRES_Q_OUT_OF_OFFICE } },
	{ "travel", { PRES_ST_AWAY, PRES_Q_OUT_OF_OFFICE } },
	{ "out-of-office", { PRES_ST_AWAY, PRES_Q_OUT_OF_OFFICE } },
	{ "permanent-absence", { PRES_ST_OFFLINE, PRES_Q_NONE } },
};

bool pres_activity_word(const char *w, size_t len, struct pres_activity *a)
{
	for (size_t i = 0; i < COUNT(activity_words); i++) {
		if (pres_word_eq(w, len, activity_words[i].w)) {
			*a = activity_words[i].a;
			return true;
		}
	}
	return false;
}

/* RFC 6121 show values; read from a foreign RFC 8048 partner as Lync
 * states (reference section 2.4, last rows). */
static const struct show {
	const char *w;
	enum pres_state xmpp, lync;
} shows[] = {
	{ "away", PRES_ST_AWAY, PRES_ST_AWAY },
	{ "xa", PRES_ST_XA, PRES_ST_AWAY },
	{ "dnd", PRES_ST_DND, PRES_ST_DND },
	{ "chat", PRES_ST_CHAT, PRES_ST_AVAILABLE },
};

enum pres_state pres_show_word(const char *w, size_t len, bool xmpp)
{
	for (size_t i = 0; i < COUNT(shows); i++)
		if (pres_word_eq(w, len, shows[i].w))
			return xmpp ? shows[i].xmpp : shows[i].lync;
	return PRES_ST_NONE;
}

/* Lync availability ranges (section 2.1): each entry holds up to `below`. */
static const struct range {
	unsigned long below;
	enum pres_state st;
} ranges[] = {
	{ 1, PRES_ST_NONE },
	{ 4500, PRES_ST_AVAILABLE },
	{ 6000, PRES_ST_AVAILABLE_IDLE },
	{ 7500, PRES_ST_BUSY },
	{ 9000, PRES_ST_BUSY_IDLE },
	{ 12000, PRES_ST_DND },
	{ 15000, PRES_ST_BRB },
	{ 18000, PRES_ST_AWAY },
};

enum pres_state pres_ms_availability(unsigned long v)
{
	for (size_t i = 0; i < COUNT(ranges); i++)
		if (v < ranges[i].below)
			return ranges[i].st;
	return PRES_ST_OFFLINE;
}

/* Windows locale ids Lync puts on custom activity texts (section 5). */
static const struct lcid {
	unsigned long id;
	const char *lang;
} lcids[] = {
	{ 1031, "de-DE" }, { 1033, "en-US" }, { 1034, "es-ES" }, { 1036, "fr-FR" },
	{ 1040, "it-IT" }, { 1041, "ja-JP" }, { 1043, "nl-NL" }, { 1046, "pt-BR" },
	{ 1049, "ru-RU" }, { 2052, "zh-CN" }, { 2057, "en-GB" }, { 3082, "es-ES" },
};

const char *pres_lcid_lang(unsigned long lcid)
{
	for (size_t i = 0; i < COUNT(lcids); i++)
		if (lcids[i].id == lcid)
			return lcids[i].lang;
	return NULL;
}
