package sampleorg

// Facts are counts tests use to check the messy stories. Computing them
// scans the contacts, cases and e-mails once (no rows are kept).
type Facts struct {
	ContactsWithoutEmail   int
	DuplicateEmailContacts int   // contacts whose address repeats another's up to case/spaces
	DuplicateExamples      []int // up to 10 such contact indexes
	CasesByState           [3]int
	AccountCustomerCases   int
	ContactCustomerCases   int
	RoutedCases            int // cases whose incoming mail went to a queue
	EmailsWithoutCase      int
	UnresolvedSenders      int // incoming e-mails whose sender party has no partyid
}

// Facts computes the story counts.
func (o *Org) Facts() Facts {
	var f Facts
	for i := 0; i < o.Count("contact"); i++ {
		p := o.person(i)
		switch {
		case p.missingEmail:
			f.ContactsWithoutEmail++
		case p.duplicateOf >= 0:
			f.DuplicateEmailContacts++
			if len(f.DuplicateExamples) < 10 {
				f.DuplicateExamples = append(f.DuplicateExamples, i)
			}
		}
	}
	for c := 0; c < o.cases; c++ {
		cf := o.caseFacts(c)
		f.CasesByState[cf.state]++
		if cf.accountCustomer {
			f.AccountCustomerCases++
		} else {
			f.ContactCustomerCases++
		}
		if cf.queue >= 0 {
			f.RoutedCases++
		}
	}
	for j := 0; j < o.Count("email"); j++ {
		ef := o.emailFacts(j)
		if ef.c < 0 {
			f.EmailsWithoutCase++
		}
		if !ef.outgoing && ef.unresolved {
			f.UnresolvedSenders++
		}
	}
	return f
}
