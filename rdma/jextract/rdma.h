/* The headers the native RDMA provider is generated from (rdma-core 44). */
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
