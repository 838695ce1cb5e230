// SPDX-License-Identifier: GPL-2.0
/*
 * crak_lab_warn: fires a WARN when loaded, so that the lab's self-test can
 * prove a warning in a guest fails the run and shows its trace.
 */

#include <linux/bug.h>
#include <linux/module.h>

static noinline void crak_lab_warn_fire(void)
{
	WARN(1, "crak_lab_warn: deliberate warning for the lab self-test\n");
}

static int __init crak_lab_warn_init(void)
{
	crak_lab_warn_fire();
	return 0;
}

static void __exit crak_lab_warn_exit(void)
{
}

module_init(crak_lab_warn_init);
module_exit(crak_lab_warn_exit);
MODULE_DESCRIPTION("crak lab self-test: a deliberate WARN");
MODULE_LICENSE("GPL");
