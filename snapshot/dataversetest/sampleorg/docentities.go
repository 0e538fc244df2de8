package sampleorg

// SOURCES: the tables below have no real metadata export in testdata. Their
// definitions are written from the Dataverse / Customer Service entity
// reference documentation as summarised in spec/dataverse-api.md §13 (one
// section per table, cited per function) and keep only the main columns.
// Object type codes of tables the spec does not give, navigation-property
// names and MetadataIds are plausible made-up values; set names, primary
// keys, column types and option values follow the spec.

func moreEntities() []*Entity {
	return []*Entity{
		incidentresolutionEntity(), phonecallEntity(), taskEntity(), appointmentEntity(),
		activitymimeattachmentEntity(), teamEntity(), teammembershipEntity(), queuemembershipEntity(),
		queueitemEntity(), calendarEntity(), slaEntity(), slaitemEntity(), slakpiinstanceEntity(),
		entitlementtemplateEntity(), entitlementEntity(), entitlementchannelEntity(),
		languagelocaleEntity(), categoryEntity(), knowledgearticleEntity(), knowledgearticlescategoriesEntity(),
		workflowEntity(), warrantyclaimEntity(),
		ocliveworkitemEntity(), ocsessionEntity(), transcriptEntity(), ocrecordingEntity(), // omnichannel.go
	}
}

// activityCols are the activitypointer columns every activity table carries (§13.4).
func activityCols(table, regarding string) []string {
	return cols(c("activityid pk", "subject s200 name", "description m2000", "activitytypecode ename",
		"regardingobjectid lk:"+regarding, "prioritycode pick:0=Low,1=Normal,2=High",
		"actualstart dt", "actualend dt", "actualdurationminutes int", "scheduledstart dt", "scheduledend dt"),
		ownedCols)
}

// §13.1 (resolution activity; columns other than incidentid unverified there).
func incidentresolutionEntity() *Entity {
	return ent("incidentresolution", "incidentresolutions", "activityid", "subject", 4206, "Case Resolution",
		flagActivity|flagTracked, cols(activityCols("incidentresolution", "incident"), c(
			"incidentid lk:incident", "timespent int",
			"statecode state:0=Open/1,1=Completed/2,2=Canceled/3",
			"statuscode status:1=Open/0,2=Closed/1,3=Canceled/2"))...)
}

// §13.6
func phonecallEntity() *Entity {
	return ent("phonecall", "phonecalls", "activityid", "subject", 4210, "Phone Call",
		flagActivity|flagTracked, cols(activityCols("phonecall", "incident|account|contact"), c(
			"directioncode bool:Outgoing/Incoming", "phonenumber s200",
			"statecode state:0=Open/1,1=Completed/2,2=Canceled/3",
			"statuscode status:1=Open/0,2=Made/1,4=Received/1,3=Canceled/2"))...)
}

// §13.7
func taskEntity() *Entity {
	return ent("task", "tasks", "activityid", "subject", 4212, "Task",
		flagActivity|flagTracked, cols(activityCols("task", "incident|account|contact"), c(
			"percentcomplete int",
			"statecode state:0=Open/2,1=Completed/5,2=Canceled/6",
			"statuscode status:2=Not_Started/0,3=In_Progress/0,4=Waiting_on_someone_else/0,7=Deferred/0,5=Completed/1,6=Canceled/2"))...)
}

// §13.8
func appointmentEntity() *Entity {
	return ent("appointment", "appointments", "activityid", "subject", 4201, "Appointment",
		flagActivity|flagTracked, cols(activityCols("appointment", "incident|account|contact"), c(
			"location s200", "isalldayevent bool:Yes/No", "scheduleddurationminutes int",
			"statecode state:0=Open/1,1=Completed/3,2=Canceled/4,3=Scheduled/5",
			"statuscode status:1=Free/0,2=Tentative/0,3=Completed/1,4=Canceled/2,5=Busy/3,6=Out_of_Office/3"))...)
}

// §13.11; body is Base64 text (§12).
func activitymimeattachmentEntity() *Entity {
	return ent("activitymimeattachment", "activitymimeattachments", "activitymimeattachmentid", "filename", 1001,
		"Attachment", flagTracked, cols(c("activitymimeattachmentid pk", "filename s255 name", "mimetype s256",
			"filesize int", "body m1073741823", "objectid lk:activitypointer|template", "objecttypecode ename",
			"attachmentnumber int", "attachmentcontentid s255", "subject s2000"), stdCols)...)
}

// §13.19
func teamEntity() *Entity {
	return ent("team", "teams", "teamid", "name", 9, "Team", flagTracked, cols(c("teamid pk", "name s160 name",
		"teamtype pick:0=Owner,1=Access,2=Security_Group,3=Office_Group", "isdefault bool:Yes/No",
		"queueid lk:queue", "description m2000", "azureactivedirectoryobjectid guid",
		"administratorid lk:systemuser"), stdCols)...)
}

// §13.19 (N:N teammembership_association): intersect columns are plain GUIDs.
func teammembershipEntity() *Entity {
	return ent("teammembership", "teammemberships", "teammembershipid", "", 23, "Team Membership",
		flagIntersect, "teammembershipid pk", "teamid guid", "systemuserid guid", "versionnumber bigint")
}

// §13.16
func queuemembershipEntity() *Entity {
	return ent("queuemembership", "queuememberships", "queuemembershipid", "", 9994, "Queue Membership",
		flagIntersect, "queuemembershipid pk", "queueid guid", "systemuserid guid", "versionnumber bigint")
}

// §13.17
func queueitemEntity() *Entity {
	return ent("queueitem", "queueitems", "queueitemid", "title", 2029, "Queue Item", flagTracked,
		cols(c("queueitemid pk", "title s300 name", "queueid lk:queue",
			"objectid lk:incident|email|phonecall|task|knowledgearticle",
			"objecttypecode pick:112=Case,4202=Email,4210=Phone_Call,4212=Task,9953=Knowledge_Article",
			"workerid lk:systemuser|team", "enteredon dt", "workeridmodifiedon dt", "sender s250", "torecipients s500",
			"priority int", "statecode state:0=Active/1,1=Inactive/2", "statuscode status:1=Active/0,2=Inactive/1"),
			ownedCols)...)
}

// §13.25
func calendarEntity() *Entity {
	return ent("calendar", "calendars", "calendarid", "name", 4003, "Calendar", 0, cols(c("calendarid pk",
		"name s160 name", "description m2000",
		"type pick:-1=Inner_Calendar_type,0=Default,1=Customer_Service,2=Holiday_Schedule",
		"holidayschedulecalendarid lk:calendar"), stdCols)...)
}

// §13.22
func slaEntity() *Entity {
	return ent("sla", "slas", "slaid", "name", 9750, "SLA", flagTracked, cols(c("slaid pk", "name s160 name",
		"description m2000", "applicablefrom s100", "businesshoursid lk:calendar", "isdefault bool:Yes/No",
		"allowpauseresume bool:Allow/Do_Not_Allow", "primaryentityotc int", "slatype pick:0=Standard,1=Enhanced",
		"slaversion pick:100000000=Version_WC,100000001=Version_UC",
		"statecode state:0=Draft/1,1=Active/2", "statuscode status:1=Draft/0,2=Active/1"), ownedCols)...)
}

// §13.23
func slaitemEntity() *Entity {
	return ent("slaitem", "slaitems", "slaitemid", "name", 9751, "SLA Item", flagTracked, cols(c("slaitemid pk",
		"name s100 name", "slaid lk:sla", "failureafter int", "warnafter int", "applicablewhenxml m1048576",
		"successconditionsxml m1048576", "relatedfield s100", "businesshoursid lk:calendar",
		"allowpauseresume bool:Yes/No", "sequencenumber int"), stdCols)...)
}

// §13.24
func slakpiinstanceEntity() *Entity {
	return ent("slakpiinstance", "slakpiinstances", "slakpiinstanceid", "name", 9752, "SLA KPI Instance",
		flagTracked, cols(c("slakpiinstanceid pk", "name s100 name",
			"status pick:0=In_Progress,1=Noncompliant,2=Nearing_Noncompliance,3=Paused,4=Succeeded,5=Canceled",
			"failuretime dt", "warningtime dt", "succeededon dt", "computedfailuretime dt", "computedwarningtime dt",
			"pausedon dt", "lastresumetime dt", "elapsedtime int",
			"regarding lk:incident|account|contact|email|phonecall|task|appointment",
			"regardingobjecttypecode ename", "msdyn_slaitemid lk:slaitem",
			"warningtimereached pick:0=No,1=Yes"), ownedCols)...)
}

// §13.21
func entitlementtemplateEntity() *Entity {
	return ent("entitlementtemplate", "entitlementtemplates", "entitlementtemplateid", "name", 9702,
		"Entitlement Template", flagTracked, cols(c("entitlementtemplateid pk", "name s100 name",
			"description m2000", termCols[0], termCols[1], termCols[2], termCols[3], termCols[4], termCols[5],
			termCols[6], termCols[7]), stdCols)...)
}

var termCols = []string{
	"allocationtypecode pick:0=Number_of_cases,1=Number_of_hours,192350000=Discount_%_and_Price_List",
	"decreaseremainingon pick:0=Case_Resolution,1=Case_Creation", "totalterms dec", "startdate dtdate",
	"enddate dtdate", "slaid lk:sla", "restrictcasecreation bool:Yes/No", "kbaccesslevel pick:0=Standard,1=Premium,2=None",
}

// §13.20
func entitlementEntity() *Entity {
	return ent("entitlement", "entitlements", "entitlementid", "name", 9700, "Entitlement", flagTracked,
		cols(c("entitlementid pk", "name s100 name", "description m2000", "remainingterms dec",
			"customerid cust", "entitlementtemplateid lk:entitlementtemplate", "isdefault bool:Yes/No",
			"entitytype pick:0=Case,192350000=Work_Order",
			"statecode state:0=Draft/0,1=Active/1,2=Cancelled/2,3=Expired/3,4=Waiting/1200",
			"statuscode status:0=Draft/0,1=Active/1,2=Cancelled/2,3=Expired/3,1200=Waiting/4"), termCols, ownedCols)...)
}

// §13.21
func entitlementchannelEntity() *Entity {
	return ent("entitlementchannel", "entitlementchannels", "entitlementchannelid", "name", 9701,
		"Entitlement Channel", flagTracked, cols(c("entitlementchannelid pk", "name s100 name",
			"entitlementid lk:entitlement", "channel pick:1=Phone,2=Email,3=Web,2483=Facebook,3986=Twitter",
			"totalterms dec", "remainingterms dec"), stdCols)...)
}

// §13.14: the entity set name is singular.
func languagelocaleEntity() *Entity {
	return ent("languagelocale", "languagelocale", "languagelocaleid", "name", 9957, "Language", 0,
		cols(c("languagelocaleid pk", "name s100 name", "localeid int", "code s10", "language s100", "region s100",
			"statecode state:0=Active/1,1=Inactive/2", "statuscode status:1=Active/0,2=Inactive/1"), stdCols)...)
}

// §13.13
func categoryEntity() *Entity {
	return ent("category", "categories", "categoryid", "title", 9959, "Category", flagTracked,
		cols(c("categoryid pk", "title s155 name", "categorynumber s100", "description m2000",
			"parentcategoryid lk:category", "sequencenumber int"), ownedCols)...)
}

// §13.12
func knowledgearticleEntity() *Entity {
	return ent("knowledgearticle", "knowledgearticles", "knowledgearticleid", "title", 9953, "Knowledge Article",
		flagTracked, cols(c("knowledgearticleid pk", "title s500 name", "content m1073741823", "description s155",
			"keywords m4000", "articlepublicnumber s100",
			"statecode state:0=Draft/2,1=Approved/5,2=Scheduled/6,3=Published/7,4=Expired/10,5=Archived/12,6=Discarded/13",
			"statuscode status:1=Proposed/0,2=Draft/0,3=Needs_review/0,4=In_review/0,5=Approved/1,6=Scheduled/2,7=Published/3,8=Needs_review/3,9=Updating/3,10=Expired/4,11=Rejected/4,12=Archived/5,13=Discarded/6,14=Rejected/6",
			"languagelocaleid lk:languagelocale", "isrootarticle bool:Yes/No", "rootarticleid lk:knowledgearticle",
			"parentarticlecontentid lk:knowledgearticle", "previousarticlecontentid lk:knowledgearticle",
			"majorversionnumber int", "minorversionnumber int", "islatestversion bool:Yes/No",
			"isprimary bool:Yes/No", "isinternal bool:Yes/No", "publishon dt", "expirationdate dt",
			"expiredreviewoptions pick:0=Needs_Updating,1=Republish,2=Archive", "knowledgearticleviews int",
			"primaryauthorid lk:systemuser"), ownedCols)...)
}

// §13.12 (N:N knowledgearticle_category)
func knowledgearticlescategoriesEntity() *Entity {
	return ent("knowledgearticlescategories", "knowledgearticlescategories", "knowledgearticlescategoryid", "",
		9960, "Knowledge Article Category", flagIntersect, "knowledgearticlescategoryid pk",
		"knowledgearticleid guid", "categoryid guid", "versionnumber bigint")
}

// §13.26
func workflowEntity() *Entity {
	return ent("workflow", "workflows", "workflowid", "name", 4703, "Process", flagTracked,
		cols(c("workflowid pk", "name s100 name", "uniquename s256", "description m100000",
			"category pick:0=Workflow,1=Dialog,2=Business_Rule,3=Action,4=Business_Process_Flow,5=Modern_Flow,6=Desktop_Flow,7=AI_Flow",
			"type pick:1=Definition,2=Activation,3=Template", "statecode state:0=Draft/1,1=Activated/2,2=Suspended/3",
			"statuscode status:1=Draft/0,2=Activated/1,3=CompanyDLPViolation/2", "primaryentity ename",
			"clientdata m1073741823", "xaml m1073741823", "mode pick:0=Background,1=Real-time",
			"scope pick:1=User,2=Business_Unit,3=Parent:_Child_Business_Units,4=Organization",
			"ismanaged bool:Managed/Unmanaged", "triggeroncreate bool:Yes/No",
			"triggeronupdateattributelist m1073741823"), ownedCols)...)
}

// A custom table (§9.4): publisher prefix new_, custom choice values from
// 100000000, a custom lookup read as _new_incidentid_value.
func warrantyclaimEntity() *Entity {
	return ent("new_warrantyclaim", "new_warrantyclaims", "new_warrantyclaimid", "new_name", 10010,
		"Warranty Claim", flagTracked|flagCustom, cols(c("new_warrantyclaimid pk custom", "new_name s100 name custom",
			"new_incidentid lk:incident custom", "new_claimamount dec custom", "new_purchasedate dateonly custom",
			"new_serialnumber s50 custom",
			"new_claimstatus pick:100000000=Submitted,100000001=Approved,100000002=Rejected,100000003=Paid custom",
			"statecode state:0=Active/1,1=Inactive/2", "statuscode status:1=Active/0,2=Inactive/1"), ownedCols)...)
}

// customColumns are org-specific columns added to real exports (§9.4).
func customColumns() map[string][]*Attribute {
	return map[string][]*Attribute{
		"incident": {parseCol("incident", "new_productserial s50 custom", false)},
		"contact": {parseCol("contact",
			"new_loyaltytier pick:100000000=Bronze,100000001=Silver,100000002=Gold,100000003=Platinum custom", false)},
	}
}
