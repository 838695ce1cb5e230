// SPDX-License-Identifier: GPL-2.0
/*
 * crak_lab_hello: the smallest module there is, proving that a module built
 * on the host for a guest's kernel loads and unloads there.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/utsname.h>

static int __init crak_lab_hello_init(void)
{
	pr_info("loaded into %s\n", init_utsname()->release);
	return 0;
}

static void __exit crak_lab_hello_exit(void)
{
	pr_info("unloaded\n");
}

module_init(crak_lab_hello_init);
module_exit(crak_lab_hello_exit);
MODULE_DESCRIPTION("crak lab self-test: load and unload");
MODULE_LICENSE("GPL");
