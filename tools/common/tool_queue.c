/* Bounded multi-consumer queue (ring buffer, one mutex, two condition variables). */
#include <pthread.h>
#include <stdlib.h>

#include "tool_queue.h"

struct tool_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	char **items;
	size_t cap;
	size_t head; /* index of the oldest item */
	size_t count;
	int closed;
};

tool_queue *tool_queue_new(size_t capacity)
{
	if (capacity == 0)
		capacity = 1;
	tool_queue *q = calloc(1, sizeof *q);
	if (q == NULL)
		return NULL;
	q->items = calloc(capacity, sizeof *q->items);
	if (q->items == NULL) {
		free(q);
		return NULL;
	}
	q->cap = capacity;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return q;
}

int tool_queue_push(tool_queue *q, char *item)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == q->cap && !q->closed)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		free(item);
		return -1;
	}
	q->items[(q->head + q->count) % q->cap] = item;
	q->count++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

char *tool_queue_pop(tool_queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	char *item = NULL;
	if (q->count > 0) {
		item = q->items[q->head];
		q->items[q->head] = NULL;
		q->head = (q->head + 1) % q->cap;
		q->count--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->lock);
	return item;
}

void tool_queue_close(tool_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

void tool_queue_free(tool_queue *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->count; i++)
		free(q->items[(q->head + i) % q->cap]);
	free(q->items);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
