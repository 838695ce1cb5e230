// SPDX-License-Identifier: GPL-2.0
/*
 * crak image show FILE|- [-j]: what a process image holds, every section
 * read and checked (lengths, order, checksums) to the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ckpt.h"
#include "json.h"
#include "objects.h"

struct show {
	struct img im;
	struct crak_img_head head;
	struct crak_img_proc proc;
	uint32_t nr_threads, nr_files, nr_vmas;
	uint64_t pages, file_bytes;
	struct json j;
	bool json;
	bool in_array;
};

static const char *const vma_kinds[] = {
	[CRAK_VMA_ANON] = "anon",
	[CRAK_VMA_SHANON] = "shared-anon",
	[CRAK_VMA_FILE] = "file",
	[CRAK_VMA_SHFILE] = "shared-file",
	[CRAK_VMA_VDSO] = "vdso",
	[CRAK_VMA_VVAR] = "vvar",
};

static const char *vma_kind(uint32_t kind)
{
	return kind < ARRAY_SIZE(vma_kinds) ? vma_kinds[kind] : "unknown";
}

static void prot_string(uint32_t prot, char *buf)
{
	buf[0] = prot & PROT_READ ? 'r' : '-';
	buf[1] = prot & PROT_WRITE ? 'w' : '-';
	buf[2] = prot & PROT_EXEC ? 'x' : '-';
	buf[3] = 0;
}

/* The per-kind arrays open in JSON: close the last one before the next. */
static void json_section_array(struct show *s, const char *key)
{
	if (s->in_array)
		json_close_array(&s->j);
	s->in_array = key != NULL;
	if (key)
		json_open_array(&s->j, key);
}

static void show_proc(struct show *s, const struct crak_img_proc *p)
{
	if (!s->json) {
		printf("process %u (%s): %s, %u thread%s, %u descriptor%s, uid %u gid %u\n"
		       "  cwd %s, root %s; taken on %s (%s)\n",
		       le32toh(p->pid), p->comm, p->exe, le32toh(p->nr_threads),
		       plural(le32toh(p->nr_threads)), le32toh(p->nr_files),
		       plural(le32toh(p->nr_files)), le32toh(p->uid[1]), le32toh(p->gid[1]),
		       p->cwd, p->root, s->head.node, s->head.release);
		return;
	}
	json_open_object(&s->j, "process");
	json_uint(&s->j, "pid", le32toh(p->pid));
	json_uint(&s->j, "ppid", le32toh(p->ppid));
	json_string(&s->j, "comm", p->comm);
	json_string(&s->j, "exe", p->exe);
	json_string(&s->j, "cwd", p->cwd);
	json_string(&s->j, "root", p->root);
	json_uint(&s->j, "uid", le32toh(p->uid[1]));
	json_uint(&s->j, "gid", le32toh(p->gid[1]));
	json_uint(&s->j, "threads", le32toh(p->nr_threads));
	json_string(&s->j, "kernel", s->head.release);
	json_string(&s->j, "node", s->head.node);
	json_close_object(&s->j);
}

static void show_file(struct show *s, const struct crak_img_file *f, const char *path)
{
	uint32_t type = le32toh(f->type);

	s->file_bytes += le64toh(f->data_len);
	if (!s->json) {
		if (s->nr_files == 1)
			printf("descriptors:\n");
		printf("  %3u %-19s %s%s", le32toh(f->fd), file_type_name(type), path ?: "",
		       path ? " " : "");
		if (le64toh(f->data_len))
			printf("(%" PRIu64 " bytes of data) ", (uint64_t)le64toh(f->data_len));
		if (type == CRAK_FILE_REG)
			printf("at %" PRIu64, (uint64_t)le64toh(f->pos));
		printf("\n");
		return;
	}
	if (s->nr_files == 1)
		json_section_array(s, "files");
	json_open_object(&s->j, NULL);
	json_uint(&s->j, "fd", le32toh(f->fd));
	json_string(&s->j, "type", file_type_name(type));
	if (path)
		json_string(&s->j, "path", path);
	json_uint(&s->j, "pos", le64toh(f->pos));
	json_uint(&s->j, "data_bytes", le64toh(f->data_len));
	json_close_object(&s->j);
}

static void show_vma(struct show *s, const struct crak_img_vma *v, const char *path)
{
	char prot[4];

	prot_string(le32toh(v->prot), prot);
	if (!s->json) {
		if (s->nr_vmas == 1)
			printf("memory:\n");
		printf("  %012" PRIx64 "-%012" PRIx64 " %s %-11s %s\n",
		       (uint64_t)le64toh(v->start), (uint64_t)le64toh(v->end), prot,
		       vma_kind(le32toh(v->kind)), path ?: "");
		return;
	}
	if (s->nr_vmas == 1)
		json_section_array(s, "memory");
	json_open_object(&s->j, NULL);
	json_uint(&s->j, "start", le64toh(v->start));
	json_uint(&s->j, "end", le64toh(v->end));
	json_string(&s->j, "prot", prot);
	json_string(&s->j, "kind", vma_kind(le32toh(v->kind)));
	if (path)
		json_string(&s->j, "path", path);
	json_close_object(&s->j);
}

/* Reads every section to END; 0 if the image is whole and sound. */
static int walk(struct show *s)
{
	uint32_t type;
	uint64_t len;
	void *p;

	for (;;) {
		if (img_read_header(&s->im, &type, &len))
			return -1;
		if (type == CRAK_IMG_PAGES) {
			struct crak_img_pages hdr;

			if (len < sizeof(hdr) || img_skip_payload(&s->im, type, len, &hdr, sizeof(hdr)))
				return -1;
			if (len != sizeof(hdr) + le64toh(hdr.nr_pages) * sysconf(_SC_PAGESIZE)) {
				pr_err("%s: a run of pages is malformed", s->im.name);
				return -1;
			}
			s->pages += le64toh(hdr.nr_pages);
			continue;
		}
		p = img_read_payload(&s->im, type, len);
		if (!p)
			return -1;
		switch (type) {
		case CRAK_IMG_HEAD:
			memcpy(&s->head, p, len < sizeof(s->head) ? len : sizeof(s->head));
			s->head.release[sizeof(s->head.release) - 1] = 0;
			s->head.node[sizeof(s->head.node) - 1] = 0;
			if (le32toh(s->head.magic) != CRAK_IMAGE_MAGIC || s->im.seq != 1) {
				pr_err("%s: not a crak process image", s->im.name);
				free(p);
				return -1;
			}
			break;
		case CRAK_IMG_PROC:
			memcpy(&s->proc, p, len < sizeof(s->proc) ? len : sizeof(s->proc));
			s->proc.comm[sizeof(s->proc.comm) - 1] = 0;
			s->proc.exe[sizeof(s->proc.exe) - 1] = 0;
			s->proc.cwd[sizeof(s->proc.cwd) - 1] = 0;
			s->proc.root[sizeof(s->proc.root) - 1] = 0;
			show_proc(s, &s->proc);
			break;
		case CRAK_IMG_FILE:
			if (len >= sizeof(struct crak_img_file)) {
				const struct crak_img_file *f = p;
				uint32_t plen = le32toh(f->path_len);

				s->nr_files++;
				show_file(s, f, plen && sizeof(*f) + plen <= len ?
					  (const char *)p + sizeof(*f) : NULL);
			}
			break;
		case CRAK_IMG_THREAD:
			s->nr_threads++;
			break;
		case CRAK_IMG_VMA:
			if (len >= sizeof(struct crak_img_vma)) {
				const struct crak_img_vma *v = p;
				uint32_t plen = le32toh(v->path_len);

				s->nr_vmas++;
				show_vma(s, v, plen && sizeof(*v) + plen <= len ?
					 (const char *)p + sizeof(*v) : NULL);
			}
			break;
		case CRAK_IMG_END:
			free(p);
			return 0;
		}
		free(p);
	}
}

static int image_show(struct args *args)
{
	struct show s = { .im.fd = -1 };
	const char *word, *file = NULL;
	int ret;

	while ((word = arg_next(args))) {
		if ((*word != '-' || !strcmp(word, "-")) && !file)
			file = word;
		else
			arg_unexpected(word);
	}
	if (!file)
		die_usage("missing image FILE (or - for standard input)");
	if (!strcmp(file, "-")) {
		s.im.fd = STDIN_FILENO;
		s.im.name = "standard input";
	} else {
		s.im.fd = open(file, O_RDONLY | O_CLOEXEC);
		if (s.im.fd < 0)
			die("%s: %s", file, strerror(errno));
		s.im.name = file;
	}
	s.json = crak_opts.json;
	if (s.json) {
		json_init(&s.j, stdout, crak_opts.pretty);
		json_open_object(&s.j, NULL);
	}
	ret = walk(&s);
	if (s.json) {
		json_section_array(&s, NULL);
		json_bool(&s.j, "valid", !ret);
		json_uint(&s.j, "sections", s.im.seq);
		json_uint(&s.j, "bytes", s.im.offset);
		json_uint(&s.j, "pages", s.pages);
		json_close_object(&s.j);
	} else if (!ret) {
		printf("image: %u sections, %.1f MiB: %" PRIu64 " pages of memory, %" PRIu64
		       " bytes of descriptor data; every checksum matches\n", s.im.seq,
		       s.im.offset / 1048576.0, s.pages, s.file_bytes);
	}
	if (s.im.fd != STDIN_FILENO)
		close(s.im.fd);
	return ret ? EXIT_FAILURE : 0;
}

static const struct command image_commands[] = {
	{
		.name = "show",
		.synopsis = "FILE|-",
		.help = "Reads the whole process image FILE (or standard input: -), checks\n"
			"every section's length, order and checksum, and shows the process,\n"
			"its descriptors and its memory map.  Exits 1 if the image is broken.\n",
		.run = image_show,
	},
};

const struct object image_object = {
	.name = "image",
	.summary = "process images: what they hold, and whether they are sound",
	.help = "What a process image of crak checkpoint holds.\n",
	.commands = image_commands,
	.n_commands = ARRAY_SIZE(image_commands),
};
