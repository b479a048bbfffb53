/*
 * vmcs_dump.c - VMCS dump for diagnostics (unknown exits, failed entries,
 * triple faults, the console's dump key).
 */
#include "vmcs_dump.h"

#include "vmcs.h"

void vmcs_dump(enum log_level level, unsigned class_mask)
{
	static const char *const class_names[] = { "control", "exit information", "guest state",
						    "host state" };
	for (unsigned cls = 0; cls < 4; cls++) {
		if (!(class_mask & (1u << cls)))
			continue;
		log_msg(level, "VMCS %s fields:", class_names[cls]);
		for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
			const struct vmcs_field_info *f = &vmcs_field_table[i];
			uint64_t v;
			if (f->cls != cls || !vmcs_read_checked(f->encoding, &v))
				continue;
			log_msg(level, "  %-30s 0x%llx", f->name, (unsigned long long)v);
		}
	}
}
