package main

// The Database custom resource (database.example.com/v1), written by hand: the fields the peer
// reads and writes, with DeepCopy methods so the typed cache can hand out copies. The CRD in
// manifests/crd/bases is the source of truth; unknown fields are simply not decoded.

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion of the Database resource.
var GroupVersion = schema.GroupVersion{Group: "database.example.com", Version: "v1"}

// DatabaseStorage is spec.storage.
type DatabaseStorage struct {
	Size         string `json:"size"`
	StorageClass string `json:"storageClass,omitempty"`
}

// DatabaseSpec is the desired state.
type DatabaseSpec struct {
	Image        string                       `json:"image"`
	Replicas     int32                        `json:"replicas"`
	DatabaseName string                       `json:"databaseName"`
	Username     string                       `json:"username"`
	Storage      DatabaseStorage              `json:"storage"`
	Resources    *corev1.ResourceRequirements `json:"resources,omitempty"`
	Environment  string                       `json:"environment,omitempty"`
}

// DatabaseStatus is what the operator reports.
type DatabaseStatus struct {
	Phase              string             `json:"phase,omitempty"`
	Ready              bool               `json:"ready"`
	ReadyReplicas      int32              `json:"readyReplicas"`
	Endpoint           string             `json:"endpoint,omitempty"`
	SecretName         string             `json:"secretName,omitempty"`
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

// Database is one PostgreSQL database.
type Database struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DatabaseSpec   `json:"spec"`
	Status            DatabaseStatus `json:"status,omitempty"`
}

// DatabaseList is a list of Databases.
type DatabaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Database `json:"items"`
}

// DeepCopyInto copies every field, sharing nothing mutable.
func (in *Database) DeepCopyInto(out *Database) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	if in.Spec.Resources != nil {
		out.Spec.Resources = in.Spec.Resources.DeepCopy()
	}
	if in.Status.Conditions != nil {
		out.Status.Conditions = make([]metav1.Condition, len(in.Status.Conditions))
		for i := range in.Status.Conditions {
			in.Status.Conditions[i].DeepCopyInto(&out.Status.Conditions[i])
		}
	}
}

// DeepCopy returns a deep copy.
func (in *Database) DeepCopy() *Database {
	if in == nil {
		return nil
	}
	out := new(Database)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *Database) DeepCopyObject() runtime.Object { return in.DeepCopy() }

// DeepCopyObject implements runtime.Object.
func (in *DatabaseList) DeepCopyObject() runtime.Object {
	if in == nil {
		return nil
	}
	out := new(DatabaseList)
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]Database, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

// addToScheme registers the Database kinds.
func addToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Database{}, &DatabaseList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
