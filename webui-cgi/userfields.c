/* userfields.c - validation of a user's login, name, e-mail and role. */
#include "userfields.h"

#include <string.h>

const char *const userfields_roles[4] = {"admin", "lead", "agent", "auditor"};

/* utf8_chars - characters of valid UTF-8 text (form_parse has checked it) */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

int userfields_login(const char *login)
{
	size_t len = login != NULL ? strlen(login) : 0;
	if (len == 0 || len > USER_LOGIN_MAX || strchr("._-", login[0]) != NULL)
		return 0;
	return strspn(login, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

int userfields_name(const char *name)
{
	if (name == NULL)
		return 0;
	size_t len = strlen(name), n = utf8_chars(name, len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7F)
			return 0;
	return n >= 1 && n <= USER_NAME_MAX;
}

/* email_part - 1 to max characters, none of them space, control or @<>,; */
static int email_part(const char *s, size_t len, size_t max)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch == 0x7F || strchr("@<>,;", ch) != NULL)
			return 0;
		/* U+0085 and U+00A0, the Latin-1 spaces and controls PostgreSQL knows */
		if (ch == 0xC2 && i + 1 < len && ((unsigned char)s[i + 1] < 0xA1))
			return 0;
	}
	size_t n = utf8_chars(s, len);
	return n >= 1 && n <= max;
}

int userfields_email(const char *email)
{
	if (email == NULL || email[0] == '\0')
		return 1;
	const char *at = strchr(email, '@');
	if (at == NULL)
		return 0;
	size_t local = (size_t)(at - email);
	return email_part(email, local, 64) && email_part(at + 1, strlen(at + 1), 255);
}

int userfields_role(const char *role)
{
	for (size_t i = 0; role != NULL && i < sizeof(userfields_roles) / sizeof(userfields_roles[0]); i++)
		if (strcmp(role, userfields_roles[i]) == 0)
			return 1;
	return 0;
}

const char *userfields_check(const char *login, const char *name, const char *email, const char *role)
{
	if (login != NULL && !userfields_login(login))
		return "A login is 1 to 64 lower-case letters, digits, dots, dashes or underscores, "
		       "starting with a letter or digit.";
	if (!userfields_name(name))
		return "A name is 1 to 200 characters without control characters.";
	if (!userfields_email(email))
		return "The e-mail address is not of the form name@domain.";
	if (!userfields_role(role))
		return "The role is one of admin, lead, agent, auditor.";
	return NULL;
}
