from __future__ import annotations

from allauth.account.views import LoginView
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import notifications
from .forms import (
    AccountForm,
    ApplicationForm,
    DiscoverForm,
    EmailChoicesForm,
    InstitutionForm,
    ReviewForm,
)
from .models import GroupApplication, Institution
from .permissions import access_society_management
from .selectors import (
    application_counts,
    application_get_for_user,
    application_list_for_user,
    application_people,
    application_queue,
    application_warnings,
    audit_list,
    group_list_for_user,
    group_overview,
    institution_for_email,
    institution_search,
)
from .services import (
    account_settings_save,
    application_approve,
    application_provision_retry,
    application_reject,
    application_request_changes,
    application_save,
    application_submit,
    email_choice_unsubscribe,
    email_choices_save,
    group_provision_is_stalled,
    identity_confirm,
    identity_confirmation_get,
    institution_save,
)
from .sso import InstitutionOIDCAdapter
from .urls_helpers import group_url, safe_redirect_or, society_url


def home(request: HttpRequest) -> HttpResponse:
    """The society's front page; signed-in members also see links to their groups."""
    my_groups = []
    if request.user.is_authenticated:
        my_groups = [
            {"name": g.name, "url": group_url(g.slug)}
            for g in group_list_for_user(user=request.user)
        ]
    return render(request, "society/home.html", {"my_groups": my_groups})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make run`: answers once the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 on the society site. A refused institutional sign-in (e.g. a replayed SAML response,
    whose one-time state allauth refuses with PermissionDenied) gets the sign-in error page."""
    if request.path.startswith(("/accounts/saml/", "/accounts/oidc/")):
        return render(request, "socialaccount/authentication_error.html", status=403)
    return render(request, "403.html", status=403)


def not_offered(request: HttpRequest) -> HttpResponse:
    raise Http404


@require_http_methods(["GET", "POST"])
def identity_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """A member confirms, from the link in their mailbox, that an institution sign-in whose
    identity changed is theirs. GET only shows the button (link scanners change nothing)."""
    confirmation = identity_confirmation_get(token=token)
    if confirmation is None:
        return render(request, "society/identity_confirm_invalid.html", status=404)
    if request.method == "POST":
        try:
            identity_confirm(confirmation=confirmation)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return render(request, "society/identity_confirm_invalid.html", status=409)
        messages.success(
            request,
            _("Confirmed. Sign in with %(institution)s again to continue.")
            % {"institution": confirmation.institution.name},
        )
        return redirect("account_login")  # a reload cannot post the used link again
    return render(
        request,
        "society/identity_confirm.html",
        {"institution": confirmation.institution, "account": _masked(confirmation.user.email)},
    )


def _masked(email: str) -> str:
    """a•••@northfield.edu: enough for the owner to recognise, little for anyone else."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


# --- Sign-in -----------------------------------------------------------------------------------


def institution_login_url(institution: Institution, next_url: str = "") -> str | None:
    """Where to start `institution`'s sign-in (allauth's provider login page), or None."""
    app = SocialApp.objects.filter(settings__institution_id=institution.pk).first()
    if app is None:
        return None
    if app.provider == "saml":
        url = reverse("saml_login", kwargs={"organization_slug": app.client_id})
    else:
        url = reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class SignInView(LoginView):
    """allauth's sign-in, with "Sign in with your institution" first."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()
        next_url = safe_redirect_or(self.request.GET.get("next", ""), "")
        context["query"] = query
        context["next_url"] = next_url  # only ever echoed when it stays on this site
        context["institutions"] = [
            {"name": i.name, "url": institution_login_url(i, next_url)}
            for i in institution_search(query=query)
        ]
        context["discover_form"] = DiscoverForm()
        return context


sign_in = SignInView.as_view()


def oidc_callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OpenID Connect callback, through our adapter: allauth's own view hard-codes
    its adapter, which believes the ID token without checking its signature (society.sso).
    The sign-in start already goes through ours (the provider's oauth2_adapter_class)."""
    try:
        return OAuth2CallbackView.adapter_view(InstitutionOIDCAdapter(request, provider_id))(
            request
        )
    except SocialApp.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def sign_in_discover(request: HttpRequest) -> HttpResponse:
    """Home-realm discovery: send an address to its institution's sign-in, or to an e-mail code.
    A GET (a reload, the Back button) goes back to the sign-in page."""
    if request.method == "GET":
        return redirect("account_login")
    form = DiscoverForm(request.POST)
    next_url = safe_redirect_or(request.POST.get("next", ""), "")
    if not form.is_valid():
        messages.error(request, _("Enter a valid e-mail address."))
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
    email = form.cleaned_data["email"].lower()
    institution = institution_for_email(email=email)
    if institution is not None and institution.has_sso:
        url = institution_login_url(institution, next_url)
        if url:
            return redirect(url)
    query = urlencode({"email": email, "next": next_url})
    return redirect(f"{reverse('account_request_login_code')}?{query}")


# --- Society management (/manage/) --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The member's account: name and time zone (theirs to change), address and institution
    (shown; the institution comes from a registered e-mail domain or its sign-in), and what
    e-mail they get. A member who has never saved it is sent here after signing in, with the
    browser's zone offered."""
    user = request.user
    next_url = safe_redirect_or(request.POST.get("next") or request.GET.get("next"), "")
    if request.method == "POST":
        form = AccountForm(request.POST, current_zone=user.time_zone)
        if form.is_valid():
            try:
                account_settings_save(user=user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your account is saved."))
                return redirect(next_url or reverse("account"))
    else:
        form = AccountForm(
            initial={"full_name": user.full_name, "time_zone": user.time_zone},
            current_zone=user.time_zone,
        )
    return _account_page(request, form=form, email_form=_email_choices_form(user))


def _email_choices_form(user, data=None) -> EmailChoicesForm:
    initial = {
        f"choice_{choice.key}": notifications.choice_delivery(user, choice.key)
        for choice in notifications.CHOICES
    }
    initial |= {"quiet_from": user.quiet_from, "quiet_until": user.quiet_until}
    return EmailChoicesForm(data, initial=initial, user=user)


def _account_page(request: HttpRequest, *, form, email_form, status: int = 200) -> HttpResponse:
    user = request.user
    first_visit = user.settings_confirmed_at is None
    next_url = safe_redirect_or(request.POST.get("next") or request.GET.get("next"), "")
    return render(
        request,
        "society/account.html",
        {
            "form": form,
            "email_form": email_form,
            "first_visit": first_visit,
            "next_url": next_url,
            # A refused zone shows the one stored, so the next Save changes nothing unasked.
            "selected_zone": (
                form.cleaned_data["time_zone"]
                if form.is_bound and "time_zone" in getattr(form, "cleaned_data", {})
                else user.time_zone
            ),
            "email_domain": user.email.rsplit("@", 1)[-1],
            "zone_label": user.time_zone.replace("_", " "),
            "email_saved": request.GET.get("saved") == "email" and not email_form.is_bound,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_email(request: HttpRequest) -> HttpResponse:
    """Save the member's reminder choices and quiet hours (the account page's second form).
    A GET (signing in again after the session ran out, a reload) shows that form."""
    if request.method == "GET":
        return redirect(reverse("account") + "#your-email")
    user = request.user
    email_form = _email_choices_form(user, request.POST)
    if email_form.is_valid():
        try:
            email_choices_save(
                user=user,
                choices=email_form.choices(),
                quiet_from=email_form.cleaned_data["quiet_from"],
                quiet_until=email_form.cleaned_data["quiet_until"],
            )
        except ValidationError as error:
            email_form.add_error(None, error)
        else:
            # Said inside the form's own section, where the page opens (?saved=email).
            return redirect(reverse("account") + "?saved=email#your-email")
    form = AccountForm(
        initial={"full_name": user.full_name, "time_zone": user.time_zone},
        current_zone=user.time_zone,
    )
    return _account_page(request, form=form, email_form=email_form, status=400)


@csrf_exempt  # RFC 8058: the mail program POSTs without a session or a form of ours
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, choice: str, token: str) -> HttpResponse:
    """One click from a reminder e-mail: GET asks (link scanners must not unsubscribe anyone),
    POST turns that kind of e-mail off at once. No sign-in."""
    user = notifications.unsubscribe_token_user(choice, token)
    if user is None:
        raise Http404
    label = notifications.unsubscribe_label(user, choice)
    if notifications.unsubscribe_done(user, choice):  # a link used before: nothing to ask
        return render(request, "society/email_unsubscribed.html", {"label": label})
    if request.method == "POST":
        email_choice_unsubscribe(choice=choice, token=token)
        return render(request, "society/email_unsubscribed.html", {"label": label})
    return render(request, "society/email_unsubscribe.html", {"label": label})


@login_required
def manage_home(request: HttpRequest) -> HttpResponse:
    access_society_management(request.user)
    return render(request, "society/manage_home.html")


@login_required
def institution_list(request: HttpRequest) -> HttpResponse:
    access_society_management(request.user)
    return render(
        request,
        "society/institution_list.html",
        {"institutions": Institution.objects.all(), "sp_entity_id": settings.SAML_SP_ENTITY_ID},
    )


def _add_errors(form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form, under its field where the form has one."""
    aliases = {"email_domains": "email_domains_text", **(aliases or {})}
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, messages_ in errors.items():
        target = aliases.get(field, field)
        form.add_error(target if target in form.fields else None, messages_)


@login_required
def institution_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change an institution and its sign-in (SAML metadata or OIDC issuer)."""
    access_society_management(request.user)
    institution = get_object_or_404(Institution, pk=pk) if pk else Institution()
    form = InstitutionForm(request.POST or None, instance=institution)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            institution = form.save(commit=False)
            institution.email_domains = form.cleaned_data["email_domains_text"]
            institution.saml_attributes = form.cleaned_data["saml_attributes"]
            try:
                institution_save(
                    institution=institution,
                    actor=request.user,
                    oidc_client_secret=form.cleaned_data.get("oidc_client_secret") or None,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": institution.name})
                return redirect("institution-edit", pk=institution.pk)
        status = 400
    urls = {}
    if institution.pk and institution.sign_in_key:
        urls = {
            "sp_entity_id": settings.SAML_SP_ENTITY_ID,
            "acs": society_url(f"/accounts/saml/{institution.sign_in_key}/acs/"),
            "metadata": society_url(f"/accounts/saml/{institution.sign_in_key}/metadata/"),
            "oidc_callback": society_url(
                f"/accounts/oidc/{institution.sign_in_key}/login/callback/"
            ),
        }
    return render(
        request,
        "society/institution_form.html",
        {"form": form, "institution": institution, "urls": urls},
        status=status,
    )


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    access_society_management(request.user)
    return render(request, "society/audit_log.html", {"events": audit_list()})


# --- Group applications ---------------------------------------------------------------------------


def _application_or_404(request: HttpRequest, pk: int) -> GroupApplication:
    application = application_get_for_user(user=request.user, pk=pk)
    if application is None:
        raise Http404
    return application


def _save_application(request, form, application) -> GroupApplication | None:
    if not form.is_valid():
        return None
    data = {k: v for k, v in form.cleaned_data.items() if not k.endswith("_text")}
    try:
        return application_save(
            application=application,
            actor=request.user,
            founding_emails=form.cleaned_data["founding_emails_text"],
            point_person_emails=form.cleaned_data["point_person_emails_text"],
            **data,
        )
    except ValidationError as exc:
        _add_errors(
            form,
            exc,
            aliases={
                "founding_emails": "founding_emails_text",
                "point_person_emails": "point_person_emails_text",
            },
        )
        return None


@login_required
def application_new(request: HttpRequest) -> HttpResponse:
    """A member proposes a group."""
    form = ApplicationForm(request.POST or None)
    if request.method == "POST":
        application = _save_application(request, form, GroupApplication())
        if application is not None:
            messages.success(request, _("Draft saved. Submit it when it is ready."))
            return redirect("application-detail", pk=application.pk)
        return render(request, "society/application_form.html", {"form": form}, status=400)
    return render(request, "society/application_form.html", {"form": form})


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "society/application_list.html",
        {"applications": application_list_for_user(user=request.user)},
    )


def _application_context(request, application, form=None):
    group = application.group
    return {
        "application": application,
        "form": form,
        "group": group,
        "stalled": group is not None and group_provision_is_stalled(group=group),
        "group_url": group_url(group.slug) if group is not None else None,
        "can_edit": application.is_editable and application.applicant_id == request.user.pk,
    }


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The application, its history and, once approved, the progress of its space."""
    application = _application_or_404(request, pk)
    form = None
    if application.is_editable and application.applicant_id == request.user.pk:
        form = ApplicationForm(request.POST or None, instance=application)
        if request.method == "POST":
            if _save_application(request, form, application) is not None:
                messages.success(request, _("Changes saved."))
                return redirect("application-detail", pk=pk)
            return render(
                request,
                "society/application_detail.html",
                _application_context(request, application, form),
                status=400,
            )
    elif request.method == "POST":
        raise PermissionDenied
    template = (
        "society/partials/application_progress.html"
        if request.htmx
        else "society/application_detail.html"
    )
    return render(request, template, _application_context(request, application, form))


@require_POST
@login_required
def application_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application_or_404(request, pk)
    try:
        application_submit(application=application, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Submitted. The society will review it."))
    return redirect("application-detail", pk=pk)


@require_POST
@login_required
def application_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application_or_404(request, pk)
    try:
        application_provision_retry(application=application, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Trying again."))
    return redirect("application-detail", pk=pk)


@login_required
def manage_applications(request: HttpRequest) -> HttpResponse:
    access_society_management(request.user)
    return render(
        request,
        "society/manage_applications.html",
        {"queue": application_queue(), "counts": application_counts()},
    )


@login_required
def manage_application_review(request: HttpRequest, pk: int) -> HttpResponse:
    """A society admin approves, returns or rejects a submitted application, with a comment."""
    access_society_management(request.user)
    application = _application_or_404(request, pk)
    form = ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            action = {
                "approve": application_approve,
                "changes": application_request_changes,
                "reject": application_reject,
            }[form.cleaned_data["decision"]]
            try:
                action(
                    application=application,
                    actor=request.user,
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Decision recorded and e-mailed to the applicant."))
                return redirect("manage-application-review", pk=pk)
        status = 400
    context = {
        **_application_context(request, application),
        "review_form": form,
        "warnings": application_warnings(application=application),
        "people": application_people(application=application),
    }
    return render(request, "society/manage_application_review.html", context, status=status)


@login_required
def manage_groups(request: HttpRequest) -> HttpResponse:
    access_society_management(request.user)
    return render(
        request,
        "society/manage_groups.html",
        {"rows": group_overview(), "counts": application_counts()},
    )
