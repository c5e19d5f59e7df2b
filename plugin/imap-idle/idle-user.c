/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "module-context.h"
#include "mail-user.h"
#include "mail-storage-hooks.h"
#include "idle-user.h"

/* Settings are read once per user, when the user is created, with userdb
   overrides (idle-user-settings.c).  A bad value fails that user's login:
   Dovecot logs user->error once, and everyone else keeps being served. */

#define IMAP_IDLE_USER_CONTEXT(obj) \
	MODULE_CONTEXT(obj, imap_idle_user_module)

struct imap_idle_user {
	union mail_user_module_context module_ctx;
	struct idle_settings set;
};

static MODULE_CONTEXT_DEFINE_INIT(imap_idle_user_module,
				  &mail_user_module_register);

static void imap_idle_mail_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct imap_idle_user *iuser;
	const char *error;

	/* A user autocreated for a shared mailbox's owner is never the one
	   idling, and their settings are the sharer's expanded for them: a
	   value bad only for the owner must not fail the sharer's access to
	   the mailbox.  Dovecot's own plugins (last-login, notify-status)
	   skip them too. */
	if (user->autocreated)
		return;
	iuser = p_new(user->pool, struct imap_idle_user, 1);
	iuser->module_ctx.super = *v;
	user->vlast = &iuser->module_ctx.super;

	if (imap_idle_user_settings_get(user, &iuser->set, &error) < 0)
		user->error = p_strdup(user->pool, error);
	MODULE_CONTEXT_SET(user, imap_idle_user_module, iuser);
}

const struct idle_settings *imap_idle_user_settings(struct mail_user *user)
{
	struct imap_idle_user *iuser = IMAP_IDLE_USER_CONTEXT(user);

	return iuser == NULL ? NULL : &iuser->set;
}

static struct mail_storage_hooks imap_idle_mail_storage_hooks = {
	.mail_user_created = imap_idle_mail_user_created,
};

void imap_idle_user_hooks_init(struct module *module)
{
	mail_storage_hooks_add(module, &imap_idle_mail_storage_hooks);
}

void imap_idle_user_hooks_deinit(void)
{
	mail_storage_hooks_remove(&imap_idle_mail_storage_hooks);
}
