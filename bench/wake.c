/*
 * What a process wake-up costs on this machine, without Node.js: CPU time
 * per wake of a process that sleeps 20 ms at a time (the spacing of the
 * benchmark's updates puts every receiver to sleep that long).
 *   gcc -O2 bench/wake.c -o /tmp/wake && /tmp/wake
 * On a bare-metal machine this is a few microseconds; floor.mjs measures the
 * same for an idle Node.js process (a timer), and for requests.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_us(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

int main(void) {
  const struct timespec gap = {0, 20 * 1000 * 1000};
  const int rounds = 250;
  for (int i = 0; i < 25; i++) nanosleep(&gap, NULL);
  const double before = cpu_us();
  for (int i = 0; i < rounds; i++) nanosleep(&gap, NULL);
  printf("C process, 20 ms asleep between wake-ups: %.1f µs CPU per wake-up\n",
         (cpu_us() - before) / rounds);
  return 0;
}
