/* fuzz_configfile: hostile config text through the config reader, inih and
 * every key parser (the certificate checks need real files: the names in a
 * fuzzed text rarely exist, so those paths are reached by the seeds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_config(); /* silences logging, makes the PKI */
	/* The seeds name the PKI files by relative paths (the corpus must then
	 * be given by an absolute path). */
	return chdir(fuzz_pki_dir());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_unref(config_load_text("fuzz", text));
	free(text);
	return 0;
}
