// SPDX-License-Identifier: MIT
int main(int argc, char **argv);
int main(int argc, char **argv) { (void)argc; (void)argv; return 0; }
