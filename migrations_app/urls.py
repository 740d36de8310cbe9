from django.urls import path, re_path

from migrations_app.views import completion, dashboard, plan_actions, plans, rehearsals
from migrations_app.views import review_policy as policy_views

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("audit/", dashboard.audit_list, name="audit_list"),
    path("plans/", plans.plan_list, name="plan_list"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/queue/", plans.my_queue, name="plan_queue"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/sql-completion/<int:target_id>/", completion.sql_completion, name="sql_completion"),
    path("plans/<int:pk>/analysis/", plans.analysis_status, name="plan_analysis_status"),
    path("plans/<int:pk>/analyse/", plan_actions.analyse, name="plan_analyse"),
    path("plans/<int:pk>/details/", plan_actions.edit_details, name="plan_edit_details"),
    path("plans/<int:pk>/sql/", plan_actions.replace_sql, name="plan_replace_sql"),
    path("plans/<int:pk>/operations/add/", plan_actions.operation_add, name="plan_operation_add"),
    path("plans/<int:pk>/operations/<int:op_id>/edit/", plan_actions.operation_edit, name="plan_operation_edit"),
    path("plans/<int:pk>/operations/<int:op_id>/remove/", plan_actions.operation_remove, name="plan_operation_remove"),
    re_path(r"^plans/(?P<pk>\d+)/operations/(?P<op_id>\d+)/move/(?P<direction>up|down)/$", plan_actions.operation_move,
            name="plan_operation_move"),
    path("plans/<int:pk>/sign-off/", plan_actions.sign_off, name="plan_sign_off"),
    path("plans/<int:pk>/checklist/", plan_actions.checklist, name="plan_checklist"),
    path("plans/<int:pk>/reopen/", plan_actions.reopen, name="plan_reopen"),
    path("plans/<int:pk>/mitigation/<int:step>/apply/", plan_actions.apply_mitigation, name="plan_apply_mitigation"),
    # a rehearsal is a step of a plan's life, on a staging copy: its pages keep their staging/ paths
    path("staging/plans/<int:plan_id>/rehearse/", rehearsals.rehearse, name="rehearse"),
    path("staging/plans/<int:plan_id>/rehearsals/", rehearsals.plan_rehearsals, name="plan_rehearsals"),
    path("staging/rehearsals/<int:rehearsal_id>/", rehearsals.rehearsal_detail, name="rehearsal_detail"),
    path("staging/rehearsals/<int:rehearsal_id>/progress/", rehearsals.rehearsal_progress, name="rehearsal_progress"),
]

# Execution, incidents, alerts
from migrations_app.views import execution as execution_views  # noqa: E402
from migrations_app.views import incidents as incident_views  # noqa: E402

urlpatterns += [
    path("plans/<int:pk>/execute/", execution_views.execution_start, name="execution_start"),
    path("executions/<int:pk>/", execution_views.execution_detail, name="execution_detail"),
    path("executions/<int:pk>/progress/", execution_views.execution_progress, name="execution_progress"),
    path("executions/<int:pk>/rollback/", execution_views.execution_rollback, name="execution_rollback"),
    path("executions/<int:pk>/stop/", execution_views.execution_stop, name="execution_stop"),
    path("executions/<int:pk>/resume/", execution_views.execution_recover, {"action": "resume"},
         name="execution_resume"),
    path("executions/<int:pk>/rollback-applied/", execution_views.execution_recover, {"action": "rollback"},
         name="execution_rollback_applied"),
    path("incidents/", incident_views.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", incident_views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/update/", incident_views.incident_update, name="incident_update"),
    path("alerts/", incident_views.alert_list, name="alert_list"),
    path("policy/", policy_views.review_policy, name="review_policy"),
    path("policy/download/", policy_views.review_policy_download, name="review_policy_download"),
    path("policy/<int:pk>/download/", policy_views.review_policy_download, name="review_policy_version_download"),
    path("rules/", policy_views.rule_list, name="rule_list"),
    path("rules/<str:rule_id>/", policy_views.rule_detail, name="rule_detail"),
]

from migrations_app.views import review as review_views  # noqa: E402

urlpatterns += [
    path("plans/<int:pk>/comments/", review_views.plan_comment, name="plan_comment"),
    path("inbox/", review_views.inbox, name="inbox"),
]
