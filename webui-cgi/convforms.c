/* convforms.c - render the action forms of a conversation (the action
 * table of docs/web.md): claim, release, handover, assign, status, title,
 * folder, private, label, note, reminder, read, unread, classify,
 * priority. Field names and values are those of docs/web.md; every value from
 * the database is escaped. Nothing here acts: the forms only post. */
#include "convforms.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "escape.h"

#define SQL_USERS                                                                                            \
	"SELECT id, display_name FROM mailroom.users WHERE active AND role <> 'auditor'"                     \
	" ORDER BY display_name, id LIMIT 1000"
#define SQL_FOLDERS "SELECT id, name FROM mailroom.folders ORDER BY name LIMIT 1000"

static const char *const statuses[] = {"open", "closed", "archived"};
static const char *const levels[] = {"urgent", "high", "normal", "low"};
/* in the order of the keys 1-5 */
static const char *const classes[] = {"customer", "supplier", "internal", "newsletter", "advertising"};

/* open_action - <form> posting to SN/c/ID/action, CSRF name action, id act-action */
static void open_action(FILE *mem, struct ctx *c, const struct session *s, const char *id, const char *action)
{
	char path[96], attrs[64];
	snprintf(path, sizeof(path), "/c/%s/%s", id, action);
	snprintf(attrs, sizeof(attrs), "id=\"act-%s\" class=\"action\"", action);
	form_open(mem, c, s, path, action, attrs);
}

/* submit_close - a submit button and the end of the form */
static void submit_close(FILE *mem, const char *label)
{
	fprintf(mem, "<button type=\"submit\">%s</button>\n</form>\n", label);
}

/* fixed_select - <select name> of constant words, current one selected */
static void fixed_select(FILE *mem, const char *name, const char *const *words, size_t n, const char *current)
{
	fprintf(mem, "<select name=\"%s\">", name);
	for (size_t i = 0; i < n; i++)
		fprintf(mem, "<option value=\"%s\"%s>%s</option>", words[i],
		        strcmp(words[i], current) == 0 ? " selected" : "", words[i]);
	fputs("</select>\n", mem);
}

/* row_select - <select name> of (id, name) rows; empty (may be NULL) is
 * the label of a first option with the empty value */
static void row_select(FILE *mem, const char *name, const PGresult *rows, const char *current,
                       const char *empty)
{
	fprintf(mem, "<select name=\"%s\">", name);
	if (empty != NULL)
		fprintf(mem, "<option value=\"\"%s>%s</option>", current[0] == '\0' ? " selected" : "",
		        empty);
	for (int i = 0; i < PQntuples(rows); i++) {
		fputs("<option value=\"", mem);
		esc_attr(mem, PQgetvalue(rows, i, 0));
		fputs(strcmp(PQgetvalue(rows, i, 0), current) == 0 ? "\" selected>" : "\">", mem);
		esc_html(mem, PQgetvalue(rows, i, 1));
		fputs("</option>", mem);
	}
	fputs("</select>\n", mem);
}

/* people_forms - claim, release, handover, assign */
static void people_forms(FILE *mem, struct ctx *c, const struct session *s, const struct conv_current *cur,
                         const PGresult *users)
{
	open_action(mem, c, s, cur->id, "claim");
	if (cur->holder_id[0] != '\0' && strcmp(cur->holder_id, s->user_id) != 0)
		fputs("<label><input type=\"checkbox\" name=\"force\" value=\"1\"> take over from the "
		      "holder</label>\n",
		      mem);
	submit_close(mem, "Claim");
	open_action(mem, c, s, cur->id, "release");
	submit_close(mem, "Release");
	open_action(mem, c, s, cur->id, "handover");
	fputs("<label>Hand over to ", mem);
	row_select(mem, "user", users, cur->holder_id, NULL);
	fputs("</label>\n", mem);
	submit_close(mem, "Hand over");
	open_action(mem, c, s, cur->id, "assign");
	fputs("<label>Assign to ", mem);
	row_select(mem, "user", users, cur->assignee_id, "nobody");
	fputs("</label>\n", mem);
	submit_close(mem, "Assign");
}

/* state_forms - status, title, folder, private, label, read, unread */
static void state_forms(FILE *mem, struct ctx *c, const struct session *s, const struct conv_current *cur,
                        const PGresult *folders)
{
	open_action(mem, c, s, cur->id, "status");
	fputs("<label>Status ", mem);
	fixed_select(mem, "status", statuses, sizeof(statuses) / sizeof(statuses[0]), cur->status);
	fputs("</label>\n", mem);
	submit_close(mem, "Set status");
	open_action(mem, c, s, cur->id, "title");
	fputs("<label>Title <input name=\"title\" required maxlength=\"200\" value=\"", mem);
	esc_attr(mem, cur->title);
	fputs("\"></label>\n", mem);
	submit_close(mem, "Rename");
	open_action(mem, c, s, cur->id, "folder");
	fputs("<label>Folder ", mem);
	row_select(mem, "folder", folders, cur->folder_id, "none");
	fputs("</label>\n<label>or a new folder <input name=\"folder_name\" maxlength=\"64\"></label>\n",
	      mem);
	submit_close(mem, "Move");
	if (!cur->is_private || cur->is_owner) {
		open_action(mem, c, s, cur->id, "private");
		fprintf(mem, "<input type=\"hidden\" name=\"private\" value=\"%s\">\n",
		        cur->is_private ? "0" : "1");
		submit_close(mem, cur->is_private ? "Share again" : "Make private");
	}
	open_action(mem, c, s, cur->id, "label");
	fputs("<label>Label <input name=\"label\" required maxlength=\"64\"></label>\n", mem);
	submit_close(mem, "Add label");
	open_action(mem, c, s, cur->id, "read");
	submit_close(mem, "Mark read");
	open_action(mem, c, s, cur->id, "unread");
	submit_close(mem, "Mark unread");
}

/* work_forms - note, reminder, classify, priority */
static void work_forms(FILE *mem, struct ctx *c, const struct session *s, const struct conv_current *cur,
                       const PGresult *users)
{
	static const char *const kinds[] = {"note", "phone"};
	open_action(mem, c, s, cur->id, "note");
	fputs("<label>Kind ", mem);
	fixed_select(mem, "kind", kinds, 2, "note");
	fputs("</label>\n<label>Note <textarea name=\"body\" required maxlength=\"20000\" "
	      "rows=\"4\"></textarea>"
	      "</label>\n",
	      mem);
	submit_close(mem, "Add note");
	open_action(mem, c, s, cur->id, "reminder");
	fputs("<label>Due <input type=\"datetime-local\" name=\"due\" required></label>\n"
	      "<label>Message <input name=\"message\" required maxlength=\"500\"></label>\n<label>For ",
	      mem);
	row_select(mem, "user", users, "", "me");
	fputs("</label>\n", mem);
	submit_close(mem, "Add reminder");
	open_action(mem, c, s, cur->id, "classify");
	fputs("<label>Organisation id <input name=\"org\" inputmode=\"numeric\" pattern=\"[0-9]{1,18}\" "
	      "maxlength=\"18\"></label>\n<a class=\"org-search\" href=\"",
	      mem);
	esc_attr(mem, c->req->script_name);
	fputs("/orgs\">Find an organisation</a>\n", mem);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		fprintf(mem,
		        "<button type=\"submit\" name=\"class\" value=\"%s\" data-key=\"%zu\">%s</button>\n",
		        classes[i], i + 1, classes[i]);
	fputs("</form>\n", mem);
	open_action(mem, c, s, cur->id, "priority");
	fputs("<label>Level ", mem);
	fixed_select(mem, "level", levels, sizeof(levels) / sizeof(levels[0]), cur->level);
	fputs("</label>\n", mem);
	submit_close(mem, "Set level");
}

int convforms_write(FILE *mem, struct ctx *c, const struct session *s, PGconn *conn,
                    const struct conv_current *cur, char *err, size_t errlen)
{
	PGresult *users = db_query(conn, SQL_USERS, 0, NULL, err, errlen);
	PGresult *folders = users != NULL ? db_query(conn, SQL_FOLDERS, 0, NULL, err, errlen) : NULL;
	if (folders == NULL) {
		PQclear(users);
		return -1;
	}
	fputs("<section class=\"actions\">\n<h2>Actions</h2>\n", mem);
	people_forms(mem, c, s, cur, users);
	state_forms(mem, c, s, cur, folders);
	work_forms(mem, c, s, cur, users);
	fputs("</section>\n", mem);
	PQclear(users);
	PQclear(folders);
	return 0;
}
