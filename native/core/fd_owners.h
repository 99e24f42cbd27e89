// Which IO opened each fd that is still open, process-wide. An fd accepted
// by one IO may be used and closed by another (a server's acceptor thread
// hands sockets to workers), so ownership cannot be per IO: the IO that
// closes an fd releases it whoever opened it, and an IO's destroy closes
// only the fds still recorded as its own, never a number someone else has
// since been given.
#pragma once

#include <cstdint>
#include <vector>

namespace tigerio {

class Loop;

void fd_owner_set(int32_t fd, const Loop* loop);
void fd_owner_clear(int32_t fd);
// Removes and returns the fds still owned by `loop`.
std::vector<int32_t> fd_owner_take_all(const Loop* loop);

}  // namespace tigerio
