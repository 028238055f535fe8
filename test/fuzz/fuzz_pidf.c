/* fuzz_pidf: hostile presence bodies through the translator, both ways and
 * in every dialect; the first byte picks the direction, the dialect and the
 * Content-Type, the rest is the body. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_config.h"
#include "presence/presence.h"

static struct pres_table *table;

static void ignore(void *arg, unsigned line, const char *msg)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_config(); /* silences logging */
	table = pres_table_load(PRESENCE_MAP, ignore, NULL);
	return table ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {
		"application/pidf+xml",
		"application/msrtc-event-categories+xml",
		"multipart/related;type=\"application/rlmi+xml\";boundary=b1",
		"application/xpidf+xml",
	};
	struct pres_result out = { 0 };
	const char *reason;
	struct pres_input in;

	if (size < 1)
		return 0;
	in = (struct pres_input){
		.content_type = types[(data[0] >> 2) % 4],
		.body = (const char *)data + 1,
		.len = size - 1,
		.peer_domain = (data[0] & 0x40) ? "partner.example.test" : NULL,
	};
	if (pres_translate(table, (data[0] & 1) ? PRES_OUTBOUND : PRES_INBOUND,
			   (data[0] & 2) ? PRES_DIALECT_AOL : PRES_DIALECT_LYNC, &in, &out, &reason) == 0)
		free(out.body);
	return 0;
}
