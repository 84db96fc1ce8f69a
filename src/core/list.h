/* list — intrusive doubly-linked lists (a node lives inside the object it links),
 * so joining or leaving a room or a stream never allocates. */
#ifndef PARLEY_LIST_H
#define PARLEY_LIST_H

#include <stddef.h>

typedef struct list_node {
  struct list_node *prev, *next;
} list_node;

#define LIST_INIT(head) ((head)->prev = (head)->next = (head))
#define list_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))
#define list_for_each_safe(pos, tmp, head)                                               \
  for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

static inline int list_empty(const list_node *head) { return head->next == head; }
static inline void list_push_back(list_node *head, list_node *node) {
  node->prev = head->prev;
  node->next = head;
  head->prev->next = node;
  head->prev = node;
}
static inline void list_unlink(list_node *node) {
  node->prev->next = node->next;
  node->next->prev = node->prev;
  node->prev = node->next = node;
}

#endif
