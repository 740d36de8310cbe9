import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from migrations_app import comments, workflow
from migrations_app.models import PlanComment
from targets.models import AuditEvent
from tests.factories import MigrationPlanFactory


@pytest.mark.parametrize("persona", ["dba", "other_dba", "manager", "engineer"])
def test_every_role_may_comment_on_a_plan_through_the_page(persona, plan, client_for, request):
    user = request.getfixturevalue(persona)
    response = client_for(user).post(f"/plans/{plan.pk}/comments/", {"body": "Why not CONCURRENTLY?"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/plans/{plan.pk}/?tab=history#comments")
    comment = plan.comments.get()
    assert (comment.author, comment.body) == (user, "Why not CONCURRENTLY?")
    assert AuditEvent.objects.filter(verb="plan.commented", object_id=str(plan.pk), actor=user).exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page_and_an_outsider_is_refused(plan, outsider, client_for):
    anonymous = client_for(None).post(f"/plans/{plan.pk}/comments/", {"body": "hi"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert client_for(outsider).post(f"/plans/{plan.pk}/comments/", {"body": "hi"}).status_code == 403
    with pytest.raises(PermissionDenied):
        comments.post_comment(plan, outsider, "hi")
    assert not PlanComment.objects.exists()


def test_an_empty_comment_is_refused_with_a_message_and_nothing_is_stored(plan, engineer, client_for):
    response = client_for(engineer).post(f"/plans/{plan.pk}/comments/", {"body": "   "}, follow=True)
    assert "the comment is empty" in response.content.decode()
    assert not PlanComment.objects.exists()


def test_a_mention_emails_the_mentioned_reader_once_and_not_the_author_or_an_outsider(
        plan, dba, other_dba, manager, outsider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        comment = comments.post_comment(plan, other_dba, f"@{manager.username}, ok for Friday? cc @{dba.username} "
                                                         f"@{outsider.username} @{other_dba.username} @nobody")
    assert sorted(u.username for u in comment.mentions.all()) == [dba.username, manager.username]
    assert sorted(m.to[0] for m in mail.outbox) == [dba.email, manager.email]
    message = next(m for m in mail.outbox if m.to == [manager.email])
    assert message.subject == f"[DataFlow] {other_dba.username} mentioned you on: Add nickname"
    assert "ok for Friday?" in message.body and f"/plans/{plan.pk}/?tab=history" in message.body


def test_the_thread_shows_comments_and_whom_they_notified(plan, other_dba, manager, engineer, client_for):
    comments.post_comment(plan, other_dba, f"@{manager.username} please look")
    html = client_for(engineer).get(f"/plans/{plan.pk}/?tab=history").content.decode()
    assert "please look" in html and f"notified {manager.username}" in html
    assert 'action="/plans/%d/comments/"' % plan.pk in html


def test_the_inbox_lists_what_awaits_me_and_mentions_newest_first(target, dba, other_dba, analysed, client_for):
    waiting = analysed(MigrationPlanFactory(author=dba, target=target, title="Medium by alice"), "MEDIUM")
    mine = MigrationPlanFactory(author=other_dba, target=target, title="Bob's plan")
    comments.post_comment(waiting, dba, f"@{other_dba.username} first mention")
    comments.post_comment(waiting, dba, f"@{other_dba.username} second mention")
    html = client_for(other_dba).get("/inbox/").content.decode()
    awaiting = html.split('id="awaiting"')[1].split('id="activity"')[0]
    assert "Medium by alice" in awaiting and "Bob&#x27;s plan" not in awaiting
    activity = html.split('id="activity"')[1]
    assert activity.index("second mention") < activity.index("first mention")
    assert mine.title not in activity  # nothing happened to it yet


def test_the_inbox_shows_what_others_and_the_system_did_to_my_plans_but_not_my_own_edits(
        plan, dba, other_dba, analysed, engineer, client_for):
    analysed(plan, "MEDIUM")
    workflow.sign_off(plan, other_dba, "review", "fine by me")
    comments.post_comment(plan, engineer, "which release?")
    html = client_for(dba).get("/inbox/").content.decode()
    activity = html.split('id="activity"')[1]
    assert "signed off: review: fine by me" in activity
    assert "analysis finished: MEDIUM" in activity
    assert "the plan is approved" in activity
    assert "commented: which release?" in activity
    assert activity.index("commented: which release?") < activity.index("signed off: review")
    assert "plan.created" not in activity and "analysis_requested" not in activity


def test_the_inbox_is_paged(plan, dba, engineer, client_for):
    for i in range(51):
        comments.post_comment(plan, engineer, f"note {i:02d}")
    first = client_for(dba).get("/inbox/").content.decode()
    assert "note 50" in first and "note 00" not in first and "51 entries" in first
    assert "note 00" in client_for(dba).get("/inbox/?page=2").content.decode()
