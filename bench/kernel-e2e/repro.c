// Reproducer for the planted bug of make-tree.sh: prctl(PR_GET_AUXV) with a
// buffer shorter than one auxv entry trips the WARN_ON_ONCE that the culprit
// commit adds to prctl_get_auxv() (kernel/sys.c). On a kernel without it the
// call just returns the size of the saved auxv. Build: gcc -static -O2.
#include <stdio.h>
#include <sys/prctl.h>

#ifndef PR_GET_AUXV
#define PR_GET_AUXV 0x41555856
#endif

int main(void)
{
	unsigned long buf[2];
	long r = prctl(PR_GET_AUXV, (unsigned long)buf, 4UL, 0UL, 0UL);
	printf("prctl(PR_GET_AUXV, buf, 4) = %ld\n", r);
	return 0;
}
