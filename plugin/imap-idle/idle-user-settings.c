/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "mail-user.h"
#include "idle-user.h"

/* Where a user's imap_idle_* settings come from: the one place that
   differs between Dovecot 2.3 (plugin {} and plugin/ userdb fields, read
   as strings and parsed by the core) and 2.4 (declared settings, parsed
   by Dovecot and read with settings_get(); userdb fields without the
   plugin/ prefix).  Both end in the same struct idle_settings.
   configure defines HAVE_DOVECOT_SETTINGS_GET when the headers have 2.4's
   settings_get(). */

#ifdef HAVE_DOVECOT_SETTINGS_GET
#include "settings.h"
#include "idle-settings-dovecot.h"
#include "idle-hibernate.h"

/* A userdb written for 2.3 returns plugin/imap_idle_* fields, which 2.4
   ignores without a word: say so, or the override is lost unnoticed. */
static void warn_plugin_prefixed_fields(struct mail_user *user)
{
	const char *const *field, *key;

	if (user->userdb_fields == NULL)
		return;
	for (field = user->userdb_fields; *field != NULL; field++) {
		if (!str_begins(*field, "plugin/imap_idle_", &key) ||
		    str_begins_with(*field, IMAP_IDLE_HIBERNATE_MEMO_FIELD"="))
			continue;
		key = t_strcut(key, '=');
		e_warning(user->event, "imap_idle: userdb field "
			  "plugin/imap_idle_%s is ignored by Dovecot 2.4: "
			  "return it as imap_idle_%s (without plugin/)",
			  key, key);
	}
}

int imap_idle_user_settings_get(struct mail_user *user,
				struct idle_settings *set_r,
				const char **error_r)
{
	const struct imap_idle_settings *set;
	const char *error;

	warn_plugin_prefixed_fields(user);
	imap_idle_settings_defaults_init();
	if (settings_get(user->event, &imap_idle_setting_parser_info, 0,
			 &set, &error) < 0) {
		idle_settings_defaults(set_r);
		*error_r = t_strdup_printf("imap_idle: %s%s", error,
			strstr(error, "no settings struct") == NULL ? "" :
			" (install libimap_idle_settings.so into the settings/ "
			"directory of Dovecot's module dir)");
		return -1;
	}
	*set_r = set->idle;
	settings_free(set);
	return 0;
}
#else
static const char *settings_lookup(const char *key, void *context)
{
	const struct mail_user_settings *user_set = context;

	return mail_user_set_plugin_getenv(user_set, key);
}

int imap_idle_user_settings_read(const struct mail_user_settings *user_set,
				 struct idle_settings *set_r,
				 const char **error_r)
{
	char error[512];

	if (idle_settings_parse(set_r, settings_lookup, (void *)user_set,
				error, sizeof(error)) < 0) {
		*error_r = t_strconcat("imap_idle: ", error, NULL);
		return -1;
	}
	return 0;
}

int imap_idle_user_settings_get(struct mail_user *user,
				struct idle_settings *set_r,
				const char **error_r)
{
	return imap_idle_user_settings_read(user->set, set_r, error_r);
}
#endif
