import json
LAMBDA_RETRY=[{"ErrorEquals":["TransientAwsError","Lambda.TooManyRequestsException","Lambda.ServiceException","Lambda.AWSLambdaException","Lambda.SdkClientException"],"IntervalSeconds":2,"BackoffRate":2,"MaxAttempts":3,"MaxDelaySeconds":30,"JitterStrategy":"FULL"}]
SFN_RETRY=[{"ErrorEquals":["StepFunctions.ExecutionLimitExceededException","StepFunctions.SdkClientException","StepFunctions.AWSStepFunctionsException","StepFunctions.SFNException"],"IntervalSeconds":2,"BackoffRate":2,"MaxAttempts":3,"MaxDelaySeconds":30,"JitterStrategy":"FULL"}]
def lam(fn, payload, **kw):
    s={"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":900,
       "Parameters":{"FunctionName":"${%sFunctionArn}"%fn,"Payload":payload},"Retry":LAMBDA_RETRY}
    s.update(kw); return s
def child(phase, extra, comment, failed_next):
    inp={"phase":phase,"target":{"accountId.$":"$.target.accountId","region.$":"$.target.region"},
         "parentRunId.$":"$.parentRunId","AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":"$$.Execution.Id"}
    inp.update(extra)
    params={"StateMachineArn":"${TargetStateMachineArn}","Name.$":"$.target.names.%s"%phase}
    if phase=="plan":
        params["Input.$"]="States.JsonMerge($.input, $.fixed, false)"
    else:
        params["Input"]=inp
    return {"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Comment":comment,
        "Parameters":params,
        "ResultPath":None,"OutputPath":None,"Retry":SFN_RETRY,
        "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":None,"Next":failed_next}],"End":True}
def target_map(name, items, phase, extra_sel, extra_in, comment, child_comment, nxt, catch_next="SetOutcomeFailed"):
    sel={"parentRunId.$":"$.run.runId","target.$":"$$.Map.Item.Value"}; sel.update(extra_sel)
    failed=name+"TargetNotFinished"
    return {"Type":"Map","Comment":comment,"ItemsPath":items,"ItemSelector":sel,"MaxConcurrency":"${TargetMaxConcurrency}",
        "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":name+"Target","States":{
            name+"Target":child(phase, extra_in, child_comment, failed),
            failed:{"Type":"Pass","Comment":"One target's failure or denial never stops the others; the target's own run records what happened (or, if it never started, FinalizeOrganizationRun reports it).","Result":{},"End":True}}},
        "ResultPath":None,"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":catch_next}],"Next":nxt}
def outcome(o, nxt="CloseTargets"):
    p={"outcome":o}
    if o in ("REJECTED","EXPIRED","WITHDRAWN","APPROVED"): p["approval.$"]="$.approval" if o in ("REJECTED","APPROVED") else None
    if p.get("approval.$") is None: p.pop("approval.$",None)
    return {"Type":"Pass","Parameters":p,"ResultPath":"$.finalize","Next":nxt}
S={}
S["StartOrganizationRun"]=lam("ResolveTargets",{"input.$":"$","execution":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","startTime.$":"$$.Execution.StartTime"}},
    Comment="Validates the input, records the run, and resolves the targets (accounts, and OUs through AWS Organizations, recursively) into the targets to plan and the targets whose references count. An OU that cannot be listed fails the run before anything is read: a consumer left out would hide its references.",
    ResultSelector={"run.$":"$.Payload.run","childInput.$":"$.Payload.childInput","targets.$":"$.Payload.targets","referenceTargets.$":"$.Payload.referenceTargets"},
    Catch=[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"StartFailed"}],Next="CollectReferences")
S["StartFailed"]={"Type":"Fail","Comment":"Nothing was planned, locked or deleted.","ErrorPath":"$.error.Error","CausePath":"$.error.Cause"}
S["CollectReferences"]={"Type":"Map","Comment":"Every target account of a planned region writes the AMIs it references to the workspace (runs/<runId>/references-<key>.json), before any rotation. A target that cannot be read writes nothing, and its region's shared AMIs are kept (CONSUMER_UNREADABLE).",
    "ItemsPath":"$.referenceTargets","ItemSelector":{"runId.$":"$.run.runId","target.$":"$$.Map.Item.Value","ssmParameterPaths.$":"$.run.settings.ssmParameterPaths"},
    "MaxConcurrency":"${TargetMaxConcurrency}","ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"CollectTargetReferences","States":{
        "CollectTargetReferences":lam("CollectReferences",{"runId.$":"$.runId","target":{"accountId.$":"$.target.accountId","region.$":"$.target.region"},"ssmParameterPaths.$":"$.ssmParameterPaths"},
            ResultPath=None,OutputPath=None,Catch=[{"ErrorEquals":["States.ALL"],"ResultPath":None,"Next":"ReferencesUnreadable"}],End=True),
        "ReferencesUnreadable":{"Type":"Pass","Comment":"No document is written: FilterInUse counts this consumer unreadable.","Result":{},"End":True}}},
    "ResultPath":None,"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"SetOutcomeFailed"}],"Next":"PlanTargets"}
S["PlanTargets"]=target_map("Plan","$.targets","plan",{"input.$":"$.childInput","fixed":{"phase":"plan","target":{"accountId.$":"$$.Map.Item.Value.accountId","region.$":"$$.Map.Item.Value.region"},"parentRunId.$":"$.run.runId","AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":"$$.Execution.Id"}},
    {},
    "One PlanTarget child per target (its own lock, history and retries): inventory, in-use with every consumer of its region, rotation, recorded plan. It ends holding its lock when it has something to delete.",
    "The child's name starts with the target key, so the console tree says which account and region.","CombinePlans")
S["CombinePlans"]=lam("CombinePlans",{"run.$":"$.run","targets.$":"$.targets"},
    Comment="Reads each target run from the ledger (never from the Map's output), combines the plans of the targets awaiting a decision into the run's one plan (grouped by account and region; its hash covers every target's deletion set) and records it.",
    ResultSelector={"planKey.$":"$.Payload.planKey","planHash.$":"$.Payload.planHash","awaiting.$":"$.Payload.awaiting","awaitingCount.$":"$.Payload.awaitingCount"},
    ResultPath="$.plan",Catch=[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"SetOutcomeFailed"}],Next="NeedsApproval?")
S["NeedsApproval?"]={"Type":"Choice","Choices":[{"Variable":"$.plan.awaitingCount","NumericEquals":0,"Next":"SetOutcomeNothingToDelete"}],"Default":"RequestApproval"}
S["SetOutcomeNothingToDelete"]={"Type":"Pass","Comment":"Every target finished on its own (dry run, nothing to delete, skipped, failed).","Parameters":{"outcome":"NOTHING_TO_DELETE"},"ResultPath":"$.finalize","Next":"FinalizeOrganizationRun"}
S["RequestApproval"]={"Type":"Task","Comment":"One email and one page for the whole plan. The token never goes into the link or a log.",
    "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"${RequestApprovalFunctionArn}","Payload":{"run.$":"$.run","planKey.$":"$.plan.planKey","planHash.$":"$.plan.planHash","taskToken.$":"$$.Task.Token"}},
    "TimeoutSeconds":"${ApprovalTimeoutSeconds}","ResultSelector":{"decision.$":"$.decision","planHash.$":"$.planHash","approver.$":"$.approver"},"ResultPath":"$.approval","Retry":LAMBDA_RETRY,
    "Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.error","Next":"SetOutcomeExpired"},{"ErrorEquals":["ApprovalWithdrawn"],"ResultPath":None,"Next":"SetOutcomeWithdrawn"},{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"SetOutcomeFailed"}],"Next":"ApprovedThisPlan?"}
S["ApprovedThisPlan?"]={"Type":"Choice","Comment":"Only an APPROVED decision bound to the run's plan hash deletes, in every target; anything else deletes in none.",
    "Choices":[{"And":[{"Variable":"$.approval.decision","StringEquals":"APPROVED"},{"Variable":"$.approval.planHash","StringEqualsPath":"$.plan.planHash"}],"Next":"DeleteTargets"}],"Default":"SetOutcomeRejected"}
S["SetOutcomeExpired"]=outcome("EXPIRED"); S["SetOutcomeWithdrawn"]=outcome("WITHDRAWN"); S["SetOutcomeRejected"]=outcome("REJECTED")
S["DeleteTargets"]=target_map("Delete","$.plan.awaiting","delete",{"approval.$":"$.approval","parentPlanHash.$":"$.plan.planHash"},
    {"approval.$":"$.approval","parentPlanHash.$":"$.parentPlanHash"},
    "One DeleteTarget child per target awaiting the decision: it verifies the approval, the run's plan and its own share of it by content, then deletes in DeleteBatch grandchildren.",
    "Same name and input on a retried start returns the same child.","SetOutcomeApproved")
S["SetOutcomeApproved"]={"Type":"Pass","Parameters":{"outcome":"APPROVED"},"ResultPath":"$.finalize","Next":"FinalizeOrganizationRun"}
S["CloseTargets"]=target_map("Close","$.plan.awaiting","close",{"outcome.$":"$.finalize.outcome"},{"outcome.$":"$.outcome"},
    "Each target awaiting the decision records the run's outcome (nothing deleted) and releases its lock.",
    "Same name and input on a retried start returns the same child.","FinalizeOrganizationRun","FinalizeOrganizationRun")
S["SetOutcomeFailed"]={"Type":"Pass","Comment":"Nothing is deleted after a failure before the decision; targets awaiting it are closed FAILED.","Parameters":{"outcome":"FAILED"},"ResultPath":"$.finalize","Next":"CloseTargetsAfterFailure?"}
S["CloseTargetsAfterFailure?"]={"Type":"Choice","Comment":"Targets whose plan phase ended hold their lock until closed: the awaiting ones once the plans were combined, else every planned target (a target that already finished refuses the close, harmlessly).",
    "Choices":[{"Variable":"$.plan.awaiting","IsPresent":True,"Next":"CloseTargets"},{"Variable":"$.targets","IsPresent":True,"Next":"CloseEveryTarget"}],"Default":"FinalizeOrganizationRun"}
S["CloseEveryTarget"]={"Type":"Pass","Parameters":{"awaiting.$":"$.targets"},"ResultPath":"$.plan","Next":"CloseTargets"}
S["FinalizeOrganizationRun"]=lam("FinalizeOrganizationRun",{"run.$":"$.run","targets.$":"$.targets","outcome.$":"$.finalize.outcome"},
    Comment="Reads every target run's summary from the ledger and records the run's own: per target and in all.",
    ResultSelector={"summary.$":"$.Payload"},ResultPath="$.finalized",
    Catch=[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"RunFailed"}],Next="Outcome?")
S["Outcome?"]={"Type":"Choice","Choices":[{"Variable":"$.finalize.outcome","StringEquals":"FAILED","Next":"RunFailed"}],"Default":"Done"}
S["Done"]={"Type":"Succeed","OutputPath":"$.finalized.summary"}
S["RunFailed"]={"Type":"Fail","Comment":"The execution shows FAILED with the original error.","ErrorPath":"$.error.Error","CausePath":"$.error.Cause"}
d={"Comment":"ami-cleaner across an organization: one plan, one approval, one child workflow per target and phase (statemachine/ami-cleaner.asl.json).","StartAt":"StartOrganizationRun","TimeoutSeconds":"${ExecutionTimeoutSeconds}","States":S}
json.dump(d, open('/work/wt-lead/statemachine/organization.asl.json','w'), indent=2); print(len(S))
