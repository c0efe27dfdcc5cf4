// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf_importer: a test-only dma-buf importer, standing in for a
 * peer-to-peer capable driver (an RDMA NIC or a GPU) that imports a VFIO
 * dma-buf of BAR ranges.  Unlike iommufd, which takes the one physical
 * range through the private interconnect, it maps the dma-buf through the
 * exporter's map_dma_buf and unmap_dma_buf, and honours revocation through
 * invalidate_mappings, so that the VM test vfio_dmabuf exercises those.
 *
 * One attachment at a time.  debugfs, /sys/kernel/debug/dmabuf_importer/:
 *
 *   attach   write "<fd> <pci device> [nop2p] [norevoke] [defer]": attaches
 *            the dma-buf of that fd (of the writing process) dynamically for
 *            the PCI device (e.g. 0000:00:03.0); the write fails with the
 *            exporter's errno.  nop2p: the importer does not allow peer to
 *            peer; norevoke: it has no invalidate_mappings; defer: it unmaps
 *            200 ms after an invalidation, from a work item, instead of at
 *            once (the exporter's revocation must wait for that).  EBUSY if
 *            an attachment exists.
 *   map      any write: maps the attachment (under the reservation lock),
 *            failing with the exporter's errno; EBUSY if mapped
 *   unmap    any write: unmaps it (ENOENT if not mapped)
 *   detach   any write: unmaps if mapped, detaches and drops the dma-buf
 *            (ENOENT if not attached)
 *   state    "attached <0|1>", "mapped <0|1>", "invalidations <n>" (calls
 *            of invalidate_mappings since the attach), then one line
 *            "seg <dma address> <length>" (hex) per DMA segment of the
 *            mapping, while mapped
 *
 * Unloading detaches what is left and logs whether there was anything.
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

MODULE_IMPORT_NS("DMA_BUF");

#define MAX_SEGS 16
#define DEFER_MS 200

/*
 * attach_lock keeps the attachment alive and orders attach, map, unmap
 * and detach; it is taken before the reservation lock.  The mapping
 * (sgt, segs) and the counter are written under the reservation lock only,
 * because invalidate_mappings runs under it and must not take attach_lock.
 */
static DEFINE_MUTEX(attach_lock);
static struct dma_buf *dmabuf;
static struct dma_buf_attachment *attachment;
static struct pci_dev *importer;
static struct sg_table *sgt;
static struct {
	dma_addr_t addr;
	unsigned int len;
} segs[MAX_SEGS];
static unsigned int nr_segs;
static struct sg_table *stale;	/* invalidated, unmap deferred */
static unsigned int invalidations;
static bool defer;
static struct delayed_work deferred_unmap;
static struct dentry *dir;

/* Called with the reservation lock held. */
static void unmap_locked(void)
{
	dma_resv_assert_held(dmabuf->resv);
	if (!sgt)
		return;
	dma_buf_unmap_attachment(attachment, sgt, DMA_BIDIRECTIONAL);
	sgt = NULL;
	nr_segs = 0;
}

static void deferred_unmap_fn(struct work_struct *work)
{
	/* detach cancels this work before the attachment goes. */
	dma_resv_lock(dmabuf->resv, NULL);
	if (sgt && sgt == stale)
		unmap_locked();
	stale = NULL;
	dma_resv_unlock(dmabuf->resv);
}

static void invalidate_mappings(struct dma_buf_attachment *attach)
{
	dma_resv_assert_held(attach->dmabuf->resv);
	invalidations++;
	if (!sgt)
		return;
	if (defer) {
		stale = sgt;
		schedule_delayed_work(&deferred_unmap, msecs_to_jiffies(DEFER_MS));
	} else {
		unmap_locked();
	}
}

static const struct dma_buf_attach_ops p2p_revocable = {
	.allow_peer2peer = true,
	.invalidate_mappings = invalidate_mappings,
};

static const struct dma_buf_attach_ops no_p2p = {
	.allow_peer2peer = false,
	.invalidate_mappings = invalidate_mappings,
};

static const struct dma_buf_attach_ops p2p_not_revocable = {
	.allow_peer2peer = true,
};

static int read_arg(const char __user *buf, size_t len, char *s, size_t size)
{
	if (len >= size)
		return -EINVAL;
	if (copy_from_user(s, buf, len))
		return -EFAULT;
	s[len] = 0;
	return 0;
}

/* Detaches (attach_lock held), unmapping first. */
static void detach_locked(void)
{
	cancel_delayed_work_sync(&deferred_unmap);
	dma_resv_lock(dmabuf->resv, NULL);
	unmap_locked();
	dma_resv_unlock(dmabuf->resv);
	dma_buf_detach(dmabuf, attachment);
	dma_buf_put(dmabuf);
	pci_dev_put(importer);
	attachment = NULL;
	dmabuf = NULL;
	importer = NULL;
}

static ssize_t attach_write(struct file *file, const char __user *buf,
			    size_t len, loff_t *pos)
{
	const struct dma_buf_attach_ops *ops = &p2p_revocable;
	unsigned int domain, bus, slot, fn;
	char s[96], opt[3][16] = { "", "", "" };
	struct dma_buf_attachment *a;
	struct pci_dev *pdev;
	struct dma_buf *d;
	bool want_defer = false;
	int fd, n, i, ret;

	ret = read_arg(buf, len, s, sizeof(s));
	if (ret)
		return ret;
	n = sscanf(s, "%d %x:%x:%x.%x %15s %15s %15s", &fd, &domain, &bus,
		   &slot, &fn, opt[0], opt[1], opt[2]);
	if (n < 5)
		return -EINVAL;
	for (i = 0; i < n - 5; i++) {
		if (!strcmp(opt[i], "nop2p"))
			ops = &no_p2p;
		else if (!strcmp(opt[i], "norevoke"))
			ops = &p2p_not_revocable;
		else if (!strcmp(opt[i], "defer"))
			want_defer = true;
		else
			return -EINVAL;
	}
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return -ENODEV;
	d = dma_buf_get(fd);
	if (IS_ERR(d)) {
		pci_dev_put(pdev);
		return PTR_ERR(d);
	}

	mutex_lock(&attach_lock);
	if (attachment) {
		ret = -EBUSY;
		goto out;
	}
	a = dma_buf_dynamic_attach(d, &pdev->dev, ops, NULL);
	if (IS_ERR(a)) {
		ret = PTR_ERR(a);
		goto out;
	}
	dmabuf = d;
	attachment = a;
	importer = pdev;
	invalidations = 0;
	stale = NULL;
	defer = want_defer;
	d = NULL;
	pdev = NULL;
	ret = len;
out:
	mutex_unlock(&attach_lock);
	if (d)
		dma_buf_put(d);
	pci_dev_put(pdev);
	return ret;
}

/* Maps the attachment; 0 or the exporter's errno. */
static int map(void)
{
	struct scatterlist *sg;
	struct sg_table *t;
	int i, ret = 0;

	dma_resv_lock(dmabuf->resv, NULL);
	if (sgt) {
		ret = -EBUSY;
		goto out;
	}
	t = dma_buf_map_attachment(attachment, DMA_BIDIRECTIONAL);
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		goto out;
	}
	sgt = t;
	nr_segs = 0;
	for_each_sgtable_dma_sg(t, sg, i) {
		if (nr_segs == MAX_SEGS)
			break;
		segs[nr_segs].addr = sg_dma_address(sg);
		segs[nr_segs].len = sg_dma_len(sg);
		nr_segs++;
	}
out:
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static int unmap(void)
{
	int ret = -ENOENT;

	dma_resv_lock(dmabuf->resv, NULL);
	if (sgt) {
		unmap_locked();
		ret = 0;
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

/* The files "map", "unmap" and "detach": the command is the file's data. */
enum command { MAP = 1, UNMAP, DETACH };

static ssize_t command_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *pos)
{
	enum command cmd = (uintptr_t)file_inode(file)->i_private;
	int ret = -ENOENT;

	mutex_lock(&attach_lock);
	if (attachment) {
		switch (cmd) {
		case MAP:
			ret = map();
			break;
		case UNMAP:
			ret = unmap();
			break;
		case DETACH:
			detach_locked();
			ret = 0;
			break;
		}
	}
	mutex_unlock(&attach_lock);
	return ret ? ret : len;
}

static int state_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	mutex_lock(&attach_lock);
	seq_printf(m, "attached %d\n", !!attachment);
	if (attachment) {
		dma_resv_lock(dmabuf->resv, NULL);
		seq_printf(m, "mapped %d\ninvalidations %u\n", !!sgt, invalidations);
		for (i = 0; i < nr_segs; i++)
			seq_printf(m, "seg %llx %x\n", (unsigned long long)segs[i].addr,
				   segs[i].len);
		dma_resv_unlock(dmabuf->resv);
	} else {
		seq_puts(m, "mapped 0\ninvalidations 0\n");
	}
	mutex_unlock(&attach_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(state);

static const struct file_operations attach_fops = {
	.owner = THIS_MODULE,
	.write = attach_write,
};

static const struct file_operations command_fops = {
	.owner = THIS_MODULE,
	.write = command_write,
};

static int __init dmabuf_importer_init(void)
{
	INIT_DELAYED_WORK(&deferred_unmap, deferred_unmap_fn);
	dir = debugfs_create_dir("dmabuf_importer", NULL);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_file("attach", 0200, dir, NULL, &attach_fops);
	debugfs_create_file("map", 0200, dir, (void *)MAP, &command_fops);
	debugfs_create_file("unmap", 0200, dir, (void *)UNMAP, &command_fops);
	debugfs_create_file("detach", 0200, dir, (void *)DETACH, &command_fops);
	debugfs_create_file("state", 0400, dir, NULL, &state_fops);
	return 0;
}

static void __exit dmabuf_importer_exit(void)
{
	bool left;

	debugfs_remove_recursive(dir);
	mutex_lock(&attach_lock);
	left = attachment;
	if (left)
		detach_locked();
	mutex_unlock(&attach_lock);
	pr_info("dmabuf_importer: unloaded, %d attachment(s) left\n", left);
}

module_init(dmabuf_importer_init);
module_exit(dmabuf_importer_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only peer-to-peer dma-buf importer (vfio-rs VM tests)");
