/*
 * tool_queue.h - a bounded queue of heap strings between one producer
 * (the directory walker) and several worker threads.
 *
 * THREAD SAFETY: push, pop and close may be called from any thread.
 */
#ifndef AIMARK_TOOL_QUEUE_H
#define AIMARK_TOOL_QUEUE_H

#include <stddef.h>

typedef struct tool_queue tool_queue;

/* A queue holding at most `capacity` (>= 1) items. NULL when out of memory. */
tool_queue *tool_queue_new(size_t capacity);

/*
 * Adds `item` (a malloc'ed string; the queue takes it), waiting while the
 * queue is full. Returns 0, or -1 when the queue was closed (the item is
 * freed).
 */
int tool_queue_push(tool_queue *q, char *item);

/* Takes the oldest item (caller frees), waiting while the queue is empty and open. NULL once closed and drained. */
char *tool_queue_pop(tool_queue *q);

/* No more items: waiting consumers drain what is left and then get NULL. */
void tool_queue_close(tool_queue *q);

/* Frees the queue and any items left. No thread may still use it. */
void tool_queue_free(tool_queue *q);

#endif
