// SPDX-License-Identifier: GPL-2.0
/*
 * irqbypass_consumer: a test-only IRQ bypass consumer, standing in for
 * KVM's irqfd (the test VM has no KVM).  Userspace registers a consumer for
 * one of its eventfds; the module records the producers the IRQ bypass
 * manager connects to it and disconnects from it.
 *
 * debugfs, /sys/kernel/debug/irqbypass_consumer/:
 *
 *   register     write an eventfd's fd number (of the writing process):
 *                registers a consumer for its context, tagged with that
 *                number; the write fails with the manager's errno (EBUSY:
 *                a consumer of that eventfd exists; the add_producer error
 *                when fail_add is set and a producer is there)
 *   unregister   write an fd number: unregisters the consumer of that
 *                eventfd (ENOENT if there is none)
 *   consumers    one line per consumer: "<tag> <irq>", or "<tag> none"
 *                while no producer is connected
 *   events       one line per callback since the last clear: "add <tag>
 *                <irq>", "del <tag> <irq>", or "refuse <tag> <irq>" for an
 *                add_producer failed by fail_add (at most MAX_EVENTS; then
 *                "overflow"); any write clears it
 *   fail_add     when not 0, add_producer fails with -fail_add
 *
 * Unloading unregisters what is left and logs how many there were.
 */
#include <linux/debugfs.h>
#include <linux/eventfd.h>
#include <linux/irqbypass.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define MAX_EVENTS 256

struct test_consumer {
	struct irq_bypass_consumer cons;
	struct eventfd_ctx *ctx;
	struct list_head node;
	int tag;
	int irq;		/* of the connected producer, -1 for none */
};

/* Lock order: consumers_lock, then the bypass manager's, then events_lock. */
static DEFINE_MUTEX(consumers_lock);
static LIST_HEAD(consumers);
static DEFINE_MUTEX(events_lock);
static char events[MAX_EVENTS][32];
static unsigned int nr_events;
static bool events_overflow;
static u32 fail_add;
static struct dentry *dir;

static void log_event(const char *what, struct test_consumer *c, int irq)
{
	mutex_lock(&events_lock);
	if (nr_events < MAX_EVENTS)
		snprintf(events[nr_events++], sizeof(events[0]), "%s %d %d",
			 what, c->tag, irq);
	else
		events_overflow = true;
	mutex_unlock(&events_lock);
}

static int add_producer(struct irq_bypass_consumer *cons,
			struct irq_bypass_producer *prod)
{
	struct test_consumer *c = container_of(cons, struct test_consumer, cons);
	u32 err = READ_ONCE(fail_add);

	if (err) {
		log_event("refuse", c, prod->irq);
		return -(int)err;
	}
	log_event("add", c, prod->irq);
	mutex_lock(&events_lock);
	c->irq = prod->irq;
	mutex_unlock(&events_lock);
	return 0;
}

static void del_producer(struct irq_bypass_consumer *cons,
			 struct irq_bypass_producer *prod)
{
	struct test_consumer *c = container_of(cons, struct test_consumer, cons);

	log_event("del", c, prod->irq);
	mutex_lock(&events_lock);
	c->irq = -1;
	mutex_unlock(&events_lock);
}

static int parse_fd(const char __user *buf, size_t len, int *fd)
{
	char s[16];

	if (len >= sizeof(s))
		return -EINVAL;
	if (copy_from_user(s, buf, len))
		return -EFAULT;
	s[len] = 0;
	return kstrtoint(strim(s), 10, fd);
}

static ssize_t register_write(struct file *file, const char __user *buf,
			      size_t len, loff_t *pos)
{
	struct test_consumer *c;
	int fd, ret;

	ret = parse_fd(buf, len, &fd);
	if (ret)
		return ret;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(c->ctx)) {
		ret = PTR_ERR(c->ctx);
		kfree(c);
		return ret;
	}
	c->tag = fd;
	c->irq = -1;
	c->cons.add_producer = add_producer;
	c->cons.del_producer = del_producer;
	mutex_lock(&consumers_lock);
	ret = irq_bypass_register_consumer(&c->cons, c->ctx);
	if (!ret)
		list_add_tail(&c->node, &consumers);
	mutex_unlock(&consumers_lock);
	if (ret) {
		eventfd_ctx_put(c->ctx);
		kfree(c);
		return ret;
	}
	return len;
}

static void consumer_free(struct test_consumer *c)
{
	irq_bypass_unregister_consumer(&c->cons);
	list_del(&c->node);
	eventfd_ctx_put(c->ctx);
	kfree(c);
}

static ssize_t unregister_write(struct file *file, const char __user *buf,
				size_t len, loff_t *pos)
{
	struct eventfd_ctx *ctx;
	struct test_consumer *c;
	int fd, ret;

	ret = parse_fd(buf, len, &fd);
	if (ret)
		return ret;
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	ret = -ENOENT;
	mutex_lock(&consumers_lock);
	list_for_each_entry(c, &consumers, node) {
		if (c->ctx == ctx) {
			consumer_free(c);
			ret = len;
			break;
		}
	}
	mutex_unlock(&consumers_lock);
	eventfd_ctx_put(ctx);
	return ret;
}

static int consumers_show(struct seq_file *m, void *unused)
{
	struct test_consumer *c;

	mutex_lock(&consumers_lock);
	mutex_lock(&events_lock);
	list_for_each_entry(c, &consumers, node) {
		if (c->irq < 0)
			seq_printf(m, "%d none\n", c->tag);
		else
			seq_printf(m, "%d %d\n", c->tag, c->irq);
	}
	mutex_unlock(&events_lock);
	mutex_unlock(&consumers_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(consumers);

static int events_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	mutex_lock(&events_lock);
	for (i = 0; i < nr_events; i++)
		seq_printf(m, "%s\n", events[i]);
	if (events_overflow)
		seq_puts(m, "overflow\n");
	mutex_unlock(&events_lock);
	return 0;
}

static int events_open(struct inode *inode, struct file *file)
{
	return single_open(file, events_show, NULL);
}

static ssize_t events_write(struct file *file, const char __user *buf,
			    size_t len, loff_t *pos)
{
	mutex_lock(&events_lock);
	nr_events = 0;
	events_overflow = false;
	mutex_unlock(&events_lock);
	return len;
}

static const struct file_operations register_fops = {
	.owner = THIS_MODULE,
	.write = register_write,
};

static const struct file_operations unregister_fops = {
	.owner = THIS_MODULE,
	.write = unregister_write,
};

static const struct file_operations events_fops = {
	.owner = THIS_MODULE,
	.open = events_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = events_write,
};

static int __init irqbypass_consumer_init(void)
{
	dir = debugfs_create_dir("irqbypass_consumer", NULL);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_file("register", 0200, dir, NULL, &register_fops);
	debugfs_create_file("unregister", 0200, dir, NULL, &unregister_fops);
	debugfs_create_file("consumers", 0400, dir, NULL, &consumers_fops);
	debugfs_create_file("events", 0600, dir, NULL, &events_fops);
	debugfs_create_u32("fail_add", 0600, dir, &fail_add);
	return 0;
}

static void __exit irqbypass_consumer_exit(void)
{
	struct test_consumer *c, *tmp;
	unsigned int left = 0;

	debugfs_remove_recursive(dir);
	mutex_lock(&consumers_lock);
	list_for_each_entry_safe(c, tmp, &consumers, node) {
		consumer_free(c);
		left++;
	}
	mutex_unlock(&consumers_lock);
	pr_info("irqbypass_consumer: unloaded, %u consumer(s) left registered\n", left);
}

module_init(irqbypass_consumer_init);
module_exit(irqbypass_consumer_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only IRQ bypass consumer (vfio-rs VM tests)");
