/*
 * FFmpeg, loaded when first needed instead of linked.
 *
 * libavcodec drags in over a hundred shared libraries (x265, rav1e, cairo,
 * ICU...) whose loading costs every process tens of milliseconds and over
 * 20 MB of memory, although only the AAC/M4A/Opus-in-MP4 paths of the audio
 * codec use FFmpeg. So the library links none of it: audio_codec.c includes
 * this header after the FFmpeg headers, every FFmpeg function it calls is
 * routed through a table filled by dlopen/dlsym, and each FFmpeg path starts
 * with aimark__ffmpeg_load(). The sonames come from the headers compiled
 * against, so the ABI matches.
 */
#ifndef AIMARK_CODEC_FFMPEG_DL_H
#define AIMARK_CODEC_FFMPEG_DL_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

/* Every FFmpeg function the library calls (static inline helpers such as av_q2d need no entry). */
#define AIMARK__FFMPEG_FUNCTIONS(X)                                                                         \
	X(av_channel_layout_copy) X(av_channel_layout_default) X(av_channel_layout_from_mask)                 \
	X(av_channel_layout_uninit) X(av_dict_free) X(av_dict_get) X(av_dict_set) X(av_find_best_stream)      \
	X(av_find_input_format) X(av_frame_alloc) X(av_frame_free) X(av_frame_get_buffer) X(av_frame_unref)   \
	X(av_free) X(av_freep) X(av_get_packed_sample_fmt) X(av_get_sample_fmt_name)                          \
	X(av_interleaved_write_frame) X(av_log_get_level) X(av_log_set_level) X(av_malloc) X(av_packet_alloc) \
	X(av_packet_free) X(av_packet_rescale_ts) X(av_packet_unref) X(av_read_frame)                         \
	X(av_sample_fmt_is_planar) X(av_strerror) X(av_write_trailer) X(avcodec_alloc_context3)               \
	X(avcodec_find_encoder) X(avcodec_find_encoder_by_name) X(avcodec_free_context) X(avcodec_get_name)    \
	X(avcodec_open2) X(avcodec_parameters_from_context) X(avcodec_parameters_to_context)                  \
	X(avcodec_receive_frame) X(avcodec_receive_packet) X(avcodec_send_frame) X(avcodec_send_packet)       \
	X(avformat_alloc_context) X(avformat_alloc_output_context2) X(avformat_close_input)                   \
	X(avformat_find_stream_info) X(avformat_free_context) X(avformat_new_stream) X(avformat_open_input)   \
	X(avformat_write_header) X(avio_alloc_context) X(avio_context_free) X(avio_flush) X(swr_alloc_set_opts2) \
	X(swr_convert) X(swr_free) X(swr_get_out_samples) X(swr_init)

typedef struct aimark__ffmpeg_api {
#define AIMARK__FFMPEG_MEMBER(name) __typeof__(&name) name;
	AIMARK__FFMPEG_FUNCTIONS(AIMARK__FFMPEG_MEMBER)
#undef AIMARK__FFMPEG_MEMBER
} aimark__ffmpeg_api;

extern aimark__ffmpeg_api aimark__ffmpeg;

/*
 * Loads the four FFmpeg libraries once (thread-safe). Returns 0, or
 * AIMARK_EUNSUPPORTED with a message naming the missing library or symbol;
 * the table must not be used then.
 */
int aimark__ffmpeg_load(void);

#ifndef AIMARK__FFMPEG_DL_IMPL
/* From here on, a call such as avformat_open_input(...) goes through the table. */
#define av_channel_layout_copy aimark__ffmpeg.av_channel_layout_copy
#define av_channel_layout_default aimark__ffmpeg.av_channel_layout_default
#define av_channel_layout_from_mask aimark__ffmpeg.av_channel_layout_from_mask
#define av_channel_layout_uninit aimark__ffmpeg.av_channel_layout_uninit
#define av_dict_free aimark__ffmpeg.av_dict_free
#define av_dict_get aimark__ffmpeg.av_dict_get
#define av_dict_set aimark__ffmpeg.av_dict_set
#define av_find_best_stream aimark__ffmpeg.av_find_best_stream
#define av_find_input_format aimark__ffmpeg.av_find_input_format
#define av_frame_alloc aimark__ffmpeg.av_frame_alloc
#define av_frame_free aimark__ffmpeg.av_frame_free
#define av_frame_get_buffer aimark__ffmpeg.av_frame_get_buffer
#define av_frame_unref aimark__ffmpeg.av_frame_unref
#define av_free aimark__ffmpeg.av_free
#define av_freep aimark__ffmpeg.av_freep
#define av_get_packed_sample_fmt aimark__ffmpeg.av_get_packed_sample_fmt
#define av_get_sample_fmt_name aimark__ffmpeg.av_get_sample_fmt_name
#define av_interleaved_write_frame aimark__ffmpeg.av_interleaved_write_frame
#define av_log_get_level aimark__ffmpeg.av_log_get_level
#define av_log_set_level aimark__ffmpeg.av_log_set_level
#define av_malloc aimark__ffmpeg.av_malloc
#define av_packet_alloc aimark__ffmpeg.av_packet_alloc
#define av_packet_free aimark__ffmpeg.av_packet_free
#define av_packet_rescale_ts aimark__ffmpeg.av_packet_rescale_ts
#define av_packet_unref aimark__ffmpeg.av_packet_unref
#define av_read_frame aimark__ffmpeg.av_read_frame
#define av_sample_fmt_is_planar aimark__ffmpeg.av_sample_fmt_is_planar
#define av_strerror aimark__ffmpeg.av_strerror
#define av_write_trailer aimark__ffmpeg.av_write_trailer
#define avcodec_alloc_context3 aimark__ffmpeg.avcodec_alloc_context3
#define avcodec_find_encoder aimark__ffmpeg.avcodec_find_encoder
#define avcodec_find_encoder_by_name aimark__ffmpeg.avcodec_find_encoder_by_name
#define avcodec_free_context aimark__ffmpeg.avcodec_free_context
#define avcodec_get_name aimark__ffmpeg.avcodec_get_name
#define avcodec_open2 aimark__ffmpeg.avcodec_open2
#define avcodec_parameters_from_context aimark__ffmpeg.avcodec_parameters_from_context
#define avcodec_parameters_to_context aimark__ffmpeg.avcodec_parameters_to_context
#define avcodec_receive_frame aimark__ffmpeg.avcodec_receive_frame
#define avcodec_receive_packet aimark__ffmpeg.avcodec_receive_packet
#define avcodec_send_frame aimark__ffmpeg.avcodec_send_frame
#define avcodec_send_packet aimark__ffmpeg.avcodec_send_packet
#define avformat_alloc_context aimark__ffmpeg.avformat_alloc_context
#define avformat_alloc_output_context2 aimark__ffmpeg.avformat_alloc_output_context2
#define avformat_close_input aimark__ffmpeg.avformat_close_input
#define avformat_find_stream_info aimark__ffmpeg.avformat_find_stream_info
#define avformat_free_context aimark__ffmpeg.avformat_free_context
#define avformat_new_stream aimark__ffmpeg.avformat_new_stream
#define avformat_open_input aimark__ffmpeg.avformat_open_input
#define avformat_write_header aimark__ffmpeg.avformat_write_header
#define avio_alloc_context aimark__ffmpeg.avio_alloc_context
#define avio_context_free aimark__ffmpeg.avio_context_free
#define avio_flush aimark__ffmpeg.avio_flush
#define swr_alloc_set_opts2 aimark__ffmpeg.swr_alloc_set_opts2
#define swr_convert aimark__ffmpeg.swr_convert
#define swr_free aimark__ffmpeg.swr_free
#define swr_get_out_samples aimark__ffmpeg.swr_get_out_samples
#define swr_init aimark__ffmpeg.swr_init
#endif

#endif
