// The toolsft binary: dispatches to subcommands. Placeholder until the subcommands land.
#include <cstdio>
int main() { std::puts("toolsft"); return 0; }
