// Entry point of build/kvmdbg. (Wiring lands with the KVM core.)
int main() { return 0; }
