package sampleorg

// systemuser and queue have no real metadata export in testdata. Their
// definitions below are written from the Dataverse entity reference pages
// (spec §13.15, §13.18) and keep only the main columns. The MetadataIds are
// made up, stable values.

func documentedEntities() []*Entity {
	return []*Entity{systemuserEntity(), queueEntity()}
}

func systemuserEntity() *Entity {
	return &Entity{
		LogicalName: "systemuser", SchemaName: "SystemUser", EntitySetName: "systemusers",
		PrimaryIdAttribute: "systemuserid", PrimaryNameAttribute: "fullname",
		ObjectTypeCode: 8, MetadataID: "d2100000-0000-4000-8000-000000000008", DisplayName: "User",
		ChangeTrackingEnabled: true,
		Attributes: []*Attribute{
			docAttr("systemuserid", "SystemUserId", "Uniqueidentifier", "User", withPrimaryID),
			docAttr("fullname", "FullName", "String", "Full Name", withMax(200), withPrimaryName),
			docAttr("firstname", "FirstName", "String", "First Name", withMax(256)),
			docAttr("lastname", "LastName", "String", "Last Name", withMax(256)),
			docAttr("internalemailaddress", "InternalEMailAddress", "String", "Primary Email", withMax(100), withFormat("Email")),
			docAttr("domainname", "DomainName", "String", "User Name", withMax(1024)),
			docAttr("title", "Title", "String", "Title", withMax(128)),
			docAttr("isdisabled", "IsDisabled", "Boolean", "Status", withBool("systemuser_isdisabled", "Disabled", "Enabled")),
			docAttr("accessmode", "AccessMode", "Picklist", "Access Mode", withOptions("systemuser_accessmode", "Picklist",
				opt(0, "Read-Write"), opt(1, "Administrative"), opt(2, "Read"), opt(3, "Support User"),
				opt(4, "Non-interactive"), opt(5, "Delegated Admin"))),
			docAttr("applicationid", "ApplicationId", "Uniqueidentifier", "Application ID"),
			docAttr("azureactivedirectoryobjectid", "AzureActiveDirectoryObjectId", "Uniqueidentifier", "Azure AD Object ID"),
			docAttr("createdon", "CreatedOn", "DateTime", "Created On", withDate("UserLocal", "DateAndTime")),
			docAttr("modifiedon", "ModifiedOn", "DateTime", "Modified On", withDate("UserLocal", "DateAndTime")),
			docAttr("versionnumber", "VersionNumber", "BigInt", "Version Number"),
		},
	}
}

func queueEntity() *Entity {
	return &Entity{
		LogicalName: "queue", SchemaName: "Queue", EntitySetName: "queues",
		PrimaryIdAttribute: "queueid", PrimaryNameAttribute: "name",
		ObjectTypeCode: 2020, MetadataID: "d2100000-0000-4000-8000-000000002020", DisplayName: "Queue",
		ChangeTrackingEnabled: true,
		Attributes: []*Attribute{
			docAttr("queueid", "QueueId", "Uniqueidentifier", "Queue", withPrimaryID),
			docAttr("name", "Name", "String", "Queue Name", withMax(200), withPrimaryName),
			docAttr("emailaddress", "EMailAddress", "String", "Incoming Email", withMax(100), withFormat("Email")),
			docAttr("description", "Description", "Memo", "Description", withMax(2000)),
			docAttr("queueviewtype", "QueueViewType", "Picklist", "Type", withOptions("queue_queueviewtype", "Picklist",
				opt(0, "Public"), opt(1, "Private"))),
			docAttr("queuetypecode", "QueueTypeCode", "Picklist", "Queue Type", withOptions("queue_queuetypecode", "Picklist",
				opt(1, "Default Value"))),
			docAttr("ownerid", "OwnerId", "Owner", "Owner", withTargets(map[string]string{"systemuser": "ownerid", "team": "ownerid"})),
			docAttr("primaryuserid", "PrimaryUserId", "Lookup", "Owner", withTargets(map[string]string{"systemuser": "primaryuserid"})),
			docAttr("statecode", "StateCode", "State", "Status", withOptions("queue_statecode", "State",
				stateOpt(0, "Active", 1), stateOpt(1, "Inactive", 2))),
			docAttr("statuscode", "StatusCode", "Status", "Status Reason", withOptions("queue_statuscode", "Status",
				statusOpt(1, "Active", 0), statusOpt(2, "Inactive", 1))),
			docAttr("createdon", "CreatedOn", "DateTime", "Created On", withDate("UserLocal", "DateAndTime")),
			docAttr("modifiedon", "ModifiedOn", "DateTime", "Modified On", withDate("UserLocal", "DateAndTime")),
			docAttr("versionnumber", "VersionNumber", "BigInt", "Version Number"),
		},
	}
}

type attrOpt func(*Attribute)

func docAttr(name, schema, typ, display string, opts ...attrOpt) *Attribute {
	a := &Attribute{
		LogicalName: name, SchemaName: schema, AttributeType: typ,
		AttributeTypeName: typ + "Type", DisplayName: display, IsValidForRead: true,
		MetadataID:   docMetadataID(name + "/" + schema + "/" + display),
		MetadataType: metadataTypeFor(typ),
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

func metadataTypeFor(typ string) string {
	switch typ {
	case "Uniqueidentifier", "Virtual":
		return ""
	case "Customer", "Owner":
		return "LookupAttributeMetadata"
	}
	return typ + "AttributeMetadata"
}

func withPrimaryID(a *Attribute)   { a.IsPrimaryID = true }
func withPrimaryName(a *Attribute) { a.IsPrimaryName = true }
func withMax(n int) attrOpt        { return func(a *Attribute) { a.MaxLength = n; a.Format = "Text" } }
func withFormat(f string) attrOpt  { return func(a *Attribute) { a.Format = f } }

func withDate(behavior, format string) attrOpt {
	return func(a *Attribute) { a.DateTimeBehavior = behavior; a.Format = format }
}

func withTargets(nav map[string]string) attrOpt {
	return func(a *Attribute) {
		a.NavProps = nav
		for _, t := range []string{"systemuser", "team", "account", "contact"} {
			if _, ok := nav[t]; ok {
				a.Targets = append(a.Targets, t)
			}
		}
	}
}

func withBool(name, trueLabel, falseLabel string) attrOpt {
	return func(a *Attribute) {
		a.OptionSet = &OptionSet{Name: name, OptionSetType: "Boolean", MetadataID: docMetadataID(name),
			TrueOption: &Option{Value: 1, Label: trueLabel}, FalseOption: &Option{Value: 0, Label: falseLabel}}
	}
}

func withOptions(name, typ string, opts ...Option) attrOpt {
	return func(a *Attribute) {
		a.OptionSet = &OptionSet{Name: name, OptionSetType: typ, MetadataID: docMetadataID(name), Options: opts}
	}
}

func opt(v int, label string) Option { return Option{Value: v, Label: label} }

func stateOpt(v int, label string, defaultStatus int) Option {
	return Option{Value: v, Label: label, InvariantName: label, DefaultStatus: &defaultStatus}
}

func statusOpt(v int, label string, state int) Option {
	return Option{Value: v, Label: label, State: &state}
}

// docMetadataID derives a stable id for the hand-written definitions.
func docMetadataID(key string) string { return guidFrom(hash64(0, "metadata/"+key, 0), 0x0d, 0) }
