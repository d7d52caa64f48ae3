/*
 * The content stage of aimark_mark: the layers that change the essence
 * (explicit label, watermark) run on decoded content before the metadata
 * label is written, so the label's content hash covers the final content.
 */
#include <string.h>

#include "core/internal.h"
#include "core/io_internal.h"
#include "pipeline_internal.h"

int aimark__content_stage(aimark_source *in, const aimark__format_ops *ops, const aimark_mark_options *o,
			  const char *produce_id, aimark_buf *out)
{
	(void)in;
	(void)produce_id;
	(void)out;
	if ((o->layers & (AIMARK_LAYER_EXPLICIT | AIMARK_LAYER_WATERMARK)) == 0)
		return 0;
	return aimark__error_set(AIMARK_EUNSUPPORTED, "explicit labels and watermarks are not available for %s files", ops->name);
}
