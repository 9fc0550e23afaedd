/* Stand-in for yajl's yajl_tree.h: only the handle isula_libutils types carry. */
#ifndef YAJL_TREE_H_STANDIN
#define YAJL_TREE_H_STANDIN

typedef struct yajl_val_s *yajl_val;

#endif
