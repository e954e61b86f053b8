"""Account pages: login (password and, with two-step login, the code), logout, the user's
own security page and password change, user management (system admin), locked accounts
and second-factor resets (security admin). Every change calls a function of ``services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiyang.accounts import selectors
from yiyang.accounts.actor import PageRequest
from yiyang.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    TotpForm,
    UnlockForm,
    UserCreateForm,
    UserEditForm,
)
from yiyang.accounts.middleware import IDLE_FLAG
from yiyang.accounts.models import ApiToken, User
from yiyang.accounts.permissions import AccountPerm
from yiyang.accounts.services.passwords import change_password
from yiyang.accounts.services.scopes import scope_models
from yiyang.accounts.services.security import reset_totp
from yiyang.accounts.services.security import unlock as unlock_account
from yiyang.accounts.services.signin import login_succeeded, record_logout
from yiyang.accounts.services.tokens import revoke_token
from yiyang.accounts.services.totp import confirm_totp, enrol_totp, mfa_enrolment_needed, totp_uri
from yiyang.accounts.services.users import (
    create_user,
    deactivate_user,
    reactivate_user,
    update_user_role_scope,
)
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error, page, paginate, query_without_page
from yiyang.common.permissions import Role, mfa_required
from yiyang.common.scope import ScopeKind, scope_of

# --- login / logout -----------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Username, password and, for accounts with two-step login, the TOTP code in one
    form; the session is only created when all are right, and every refusal reads the
    same (``services.signin.sign_in``)."""

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["idle_logout"] = self.request.session.pop(IDLE_FLAG, False)
        return context

    def form_valid(self, form):
        return self._finish(form.get_user())

    def _finish(self, user: User) -> HttpResponse:
        login_succeeded(self.request, user, channel="web")
        auth_login(self.request, user)
        if mfa_enrolment_needed(user):
            messages.warning(
                self.request,
                _("Your role must use two-step login: set up an authenticator app now."),
            )
            return redirect("accounts:security")
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(auth_views.LogoutView):
    """Log out (POST) with an audit row."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            record_logout(request.user)
        return super().post(request, *args, **kwargs)


# --- the user's own security --------------------------------------------------------------


@login_required
def security(request: PageRequest) -> HttpResponse:
    """Two-step login set-up (otpauth URI and secret as text, confirm with a code), the
    user's API tokens, a link to change the password."""
    user = request.user
    totp_form = TotpForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                enrol_totp(user)
                return redirect("accounts:security")
            if action == "confirm":
                totp_form = TotpForm(request.POST)
                if totp_form.is_valid():
                    confirm_totp(user, totp_form.cleaned_data["code"])
                    messages.success(request, _("Two-step login is set up."))
                    return redirect("accounts:security")
            elif action == "revoke_token":
                token = ApiToken.objects.filter(
                    user=user, pk=request.POST.get("token") or 0
                ).first()
                if token is not None:
                    revoke_token(user, token)
                    messages.success(request, _("The API token is revoked."))
                return redirect("accounts:security")
        except ValidationFailed as exc:
            if action == "confirm":
                apply_error(totp_form, exc)
            else:
                messages.error(request, exc.detail)
                return redirect("accounts:security")
    pending = bool(user.totp_secret) and not user.totp_confirmed
    context = {
        "enrolled": user.totp_confirmed,
        "required": mfa_required(user.role),
        "pending": pending,
        "secret": user.totp_secret if pending else "",
        "uri": totp_uri(user) if pending else "",
        "totp_form": totp_form,
        "tokens": ApiToken.objects.filter(
            user=user, revoked=False, expires_at__gt=timezone.now()
        ).order_by("-created_at"),
    }
    return render(request, "accounts/security.html", context)


@login_required
def password_change(request: PageRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change_password(
                request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationFailed as exc:
            apply_error(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password is changed."))
            return redirect("accounts:security")
    return render(request, "accounts/password.html", {"form": form})


# --- user management (system administrator) -----------------------------------------------


def _scope_choices(actor: User) -> tuple[list, list]:
    """Institutions and teams the actor may put into a user's scope."""
    Institution, _, Team = scope_models()

    scope = scope_of(actor)
    institutions = Institution.objects.select_related("region").order_by("region__code", "name")
    teams = Team.objects.select_related("node").order_by("name")
    if scope.kind == ScopeKind.REGION:
        institutions = institutions.filter(region__code__startswith=scope.region_prefix)
        teams = teams.filter(node__region__code__startswith=scope.region_prefix)
    elif not scope.is_all:
        return [], []
    return list(institutions), list(teams)


def _filtered_users(request: PageRequest):
    rows = selectors.users_for(request.user)
    q = (request.GET.get("q") or "").strip()
    if q:
        rows = rows.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    role = request.GET.get("role") or ""
    if role in Role.values:
        rows = rows.filter(role=role)
    return rows, q, role


@page(AccountPerm.MANAGE)
def users(request: PageRequest) -> HttpResponse:
    rows, q, role = _filtered_users(request)
    context = {
        "page_obj": paginate(request, rows),
        "q": q,
        "role": role,
        "roles": Role.choices,
        "query": query_without_page(request),
    }
    if request.htmx:
        return render(request, "accounts/_users_table.html", context)
    return render(request, "accounts/users.html", context)


@page(AccountPerm.MANAGE)
def user_create(request: PageRequest) -> HttpResponse:
    institutions, teams = _scope_choices(request.user)
    form = UserCreateForm(request.POST or None, institutions=institutions, teams=teams)
    if request.method == "POST" and form.is_valid():
        try:
            user = create_user(
                request.user,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data.get("display_name") or "",
                email=form.cleaned_data.get("email") or "",
                **form.scope_arguments(),
            )
        except ValidationFailed as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("The account %(u)s is created.") % {"u": user.username})
            return redirect("accounts:user_edit", pk=user.pk)
    return render(
        request, "accounts/user_form.html", {"form": form, "creating": True, "account": None}
    )


@page(AccountPerm.MANAGE)
def user_edit(request: PageRequest, pk: int) -> HttpResponse:
    account = selectors.get_user_for(request.user, pk)
    institutions, teams = _scope_choices(request.user)
    initial = {
        "role": account.role,
        "scope_kind": account.scope_kind,
        "scope_region": account.scope_region.code if account.scope_region else "",
        "scope_institution": account.scope_institution_id,
        "scope_team": account.scope_team_id,
        "display_name": account.display_name,
    }
    form = UserEditForm(
        request.POST or None, initial=initial, institutions=institutions, teams=teams
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_user_role_scope(
                request.user,
                account,
                display_name=form.cleaned_data.get("display_name") or "",
                **form.scope_arguments(),
            )
        except ValidationFailed as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("The account is saved."))
            return redirect("accounts:user_edit", pk=account.pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "creating": False, "account": account, "is_self": account == request.user},
    )


def _set_active(request: PageRequest, pk: int, active: bool) -> HttpResponse:
    account = selectors.get_user_for(request.user, pk)
    try:
        if active:
            reactivate_user(request.user, account)
            messages.success(request, _("The account is active again."))
        else:
            deactivate_user(request.user, account)
            messages.success(request, _("The account is deactivated."))
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
    return redirect("accounts:user_edit", pk=account.pk)


@page(AccountPerm.MANAGE)
@require_POST
def user_deactivate(request: PageRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, False)


@page(AccountPerm.MANAGE)
@require_POST
def user_reactivate(request: PageRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, True)


# --- security administration --------------------------------------------------------------


@page(AccountPerm.SECURITY)
def locked(request: PageRequest) -> HttpResponse:
    return render(request, "accounts/locked.html", {"locks": selectors.locks_for(request.user)})


@page(AccountPerm.SECURITY)
@require_POST
def unlock(request: PageRequest) -> HttpResponse:
    form = UnlockForm(request.POST)
    if form.is_valid():
        try:
            unlock_account(
                request.user,
                username=form.cleaned_data["username"],
                address=form.cleaned_data.get("address") or None,
            )
        except ValidationFailed as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(
                request, _("%(u)s is unlocked.") % {"u": form.cleaned_data["username"]}
            )
    else:
        messages.error(request, _("Unlock needs a username and, optionally, an IP address."))
    return redirect("accounts:locked")


@page(AccountPerm.SECURITY)
def mfa(request: PageRequest) -> HttpResponse:
    """Accounts with their second-factor state, to reset a lost authenticator."""
    rows, q, role = _filtered_users(request)
    context = {
        "page_obj": paginate(request, rows),
        "q": q,
        "role": role,
        "roles": Role.choices,
        "query": query_without_page(request),
    }
    if request.htmx:
        return render(request, "accounts/_mfa_table.html", context)
    return render(request, "accounts/mfa.html", context)


@page(AccountPerm.SECURITY)
@require_POST
def totp_reset(request: PageRequest, pk: int) -> HttpResponse:
    account = selectors.get_user_for(request.user, pk)
    try:
        reset_totp(request.user, account)
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("The second factor of %(u)s is reset; they set it up again at the next login.")
            % {"u": account.username},
        )
    return redirect("accounts:mfa")
